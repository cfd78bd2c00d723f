import { createRoute, z } from '@hono/zod-openapi';
import type { StripeConfig } from '../../lib/config.ts';
import { AppError } from '../../lib/errors.ts';
import { buildStripeEvent, signedStripeDelivery } from '../../lib/payments/stripe-events.ts';
import { isInternalCaller } from '../../lib/secrets.ts';
import { enveloped, errorResponses, jsonBody, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { STRIPE_WEBHOOK_PATH } from './webhooks.ts';

const triggerRoute = createRoute({
  method: 'post',
  path: '/stripe/events',
  tags: ['payments'],
  summary: 'Send a signed Stripe event to the webhook (development only)',
  description:
    'What `stripe trigger` does, without the Stripe CLI: builds an event `{id: evt_…, type, created, data: {object}}` ' +
    '(`object` over a sample of that type), signs it with STRIPE_WEBHOOK_SECRET exactly as Stripe does and delivers it to ' +
    '`POST /api/v1/webhooks/stripe` through the whole middleware chain. Requires INTERNAL_SECRET ' +
    '(`x-internal-secret` or a bearer token). Not served when NODE_ENV=production.',
  security: [{ internalSecret: [] }],
  request: {
    body: jsonBody(
      z.object({
        type: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'a Stripe event type such as payment_intent.succeeded'),
        object: z
          .record(z.string(), z.unknown())
          .optional()
          .openapi({ description: "`data.object`'s fields; put our ids in `metadata`, e.g. {\"amount\": 1000, \"metadata\": {\"paymentId\": \"…\"}} (the id of a payment from POST /tips or /coin-purchases)" }),
      }),
    ),
  },
  responses: {
    200: enveloped(
      z.object({ event: z.object({ id: z.string(), type: z.string(), object: z.record(z.string(), z.unknown()) }), webhookStatus: z.number().int() }),
      'The webhook took the event in',
    ),
    ...errorResponses({ 400: 'Invalid type or object', 401: 'Missing or wrong internal secret', 503: 'Payments are not configured, or the webhook refused the event' }),
  },
});

/**
 * `POST /api/v1/dev/stripe/events`. `deliver` hands a request to the app itself, so the event
 * takes the same path as one from Stripe without this process needing to reach its own URL.
 */
export function devStripeEventRoutes(deps: { internalSecret: string; stripe: StripeConfig | undefined; deliver: (request: Request) => Promise<Response> }) {
  const router = createRouter();

  router.openapi(triggerRoute, async (c) => {
    if (!isInternalCaller((name) => c.req.header(name), deps.internalSecret)) throw new AppError('unauthorized', 'Missing or wrong internal secret');
    if (!deps.stripe) throw new AppError('unavailable', 'Payments are not configured on this server');
    const input = c.req.valid('json');
    const now = Math.floor(Date.now() / 1000);
    const event = buildStripeEvent({ type: input.type, object: input.object, createdSeconds: now });
    const { body, signature } = signedStripeDelivery(event, deps.stripe.webhookSecret, now);
    const res = await deps.deliver(
      new Request(new URL(STRIPE_WEBHOOK_PATH, c.req.url), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body }),
    );
    if (!res.ok) throw new AppError('unavailable', 'The webhook refused the event', { webhookStatus: res.status, webhookAnswer: await res.json().catch(() => null) });
    await res.body?.cancel();
    return c.json(ok({ event: { id: event.id, type: event.type, object: event.data.object }, webhookStatus: res.status }), 200);
  });

  return router;
}
