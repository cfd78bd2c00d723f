import { createRoute, z } from '@hono/zod-openapi';
import type { StripeConfig } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { acceptStripeEvent } from '../../lib/payments/event-intake.ts';
import { parseStripeEvent } from '../../lib/payments/stripe-events.ts';
import { SIGNATURE_TOLERANCE_SECONDS, verifyStripeSignature } from '../../lib/payments/stripe-signature.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { enveloped, errorResponses, ok } from '../responses.ts';
import { createRouter } from '../router.ts';

export const STRIPE_WEBHOOK_PATH = '/api/v1/webhooks/stripe';

const stripeWebhookRoute = createRoute({
  method: 'post',
  path: '/stripe',
  tags: ['payments'],
  summary: 'Stripe webhook endpoint (called by Stripe)',
  description:
    'Verifies `Stripe-Signature` (HMAC-SHA256 with the endpoint secret over `<t>.<raw body>`, ' +
    `at most ${SIGNATURE_TOLERANCE_SECONDS} s old), stores the event once and starts the workflow ` +
    '`payment-event/stripe/<event id>` that applies it, then answers at once. A redelivered event is ' +
    'answered 200 and starts nothing new. Not authenticated otherwise; no bearer token.',
  request: {
    // Read as raw bytes (the signature covers them exactly), so the body is documented, not validated here.
    body: {
      required: true,
      content: { 'application/json': { schema: { type: 'object', description: 'A Stripe event object (`"object": "event"`)' } } },
    },
    headers: z.object({ 'stripe-signature': z.string().optional().openapi({ description: 't=<unix seconds>,v1=<hex HMAC>[,v1=…]' }) }),
  },
  responses: {
    200: enveloped(z.object({ received: z.literal(true) }), 'Stored (or stored before) and handed to its workflow'),
    ...errorResponses({
      400: '`invalid_signature` (nothing stored), or a signed body that is not a Stripe event',
      413: 'Body over MAX_BODY_BYTES',
      503: 'Payments are not configured, or the event could not be taken in now (Stripe delivers it again)',
    }),
  },
});

/** `POST /api/v1/webhooks/stripe`: where Stripe delivers events. */
export function stripeWebhookRoutes(deps: { db: Db; temporal: Temporal; stripe: StripeConfig | undefined }) {
  const router = createRouter();

  router.openapi(stripeWebhookRoute, async (c) => {
    if (!deps.stripe) throw new AppError('unavailable', 'Payments are not configured on this server');
    const body = new Uint8Array(await c.req.arrayBuffer());
    const check = verifyStripeSignature({
      payload: body,
      header: c.req.header('stripe-signature'),
      secret: deps.stripe.webhookSecret,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (!check.valid) {
      c.get('log').warn({ reason: check.failure }, 'Stripe webhook refused: bad signature');
      throw new AppError('invalid_signature', 'Stripe-Signature does not verify for this body', { reason: check.failure });
    }
    const event = parseStripeEvent(Buffer.from(body).toString('utf8'));
    if (!event) throw new AppError('validation_failed', 'The body is not a Stripe event');
    try {
      const recorded = await acceptStripeEvent(deps.db, deps.temporal, event);
      c.get('log').info({ eventId: event.id, type: event.type, redelivery: !recorded.inserted }, 'Stripe event received');
    } catch (err) {
      // Any 5xx makes Stripe deliver the event again later, which repeats this safely.
      throw new AppError('unavailable', 'The event could not be taken in now; it will be delivered again', undefined, { cause: err });
    }
    return c.json(ok({ received: true as const }), 200);
  });

  return router;
}
