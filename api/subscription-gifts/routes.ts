import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { PaymentGateway } from '../../lib/stripe.ts';
import { subscriptionRules } from '../../lib/subscriptions/config.ts';
import { SUBSCRIPTION_GIFT_MAX_QUANTITY } from '../../lib/subscriptions/gifts.ts';
import type { SubscriptionTier } from '../../lib/schema.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { clientSecretFor } from '../payments/service.ts';
import { createdOrReplayed, enveloped, errorResponses, idempotencyKeyHeader, jsonBody, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findGiftSummary, findOwnGift, startSubscriptionGift } from './service.ts';

// Gift subscriptions (README "Gift subscriptions"): a viewer pays for N one-month
// subscriptions to a channel; once Stripe reports the payment, each goes to a viewer of the
// room (else a follower) who has none, as its own `subscription/<id>` workflow.

const minor = z.number().int().openapi({ description: 'Integer minor units of `currency` (cents for USD)' });
const giftStatus = z.enum(['pending', 'paid', 'distributed', 'failed']).openapi({
  description: '`pending` until the payment succeeds, `paid` while the recipients are being chosen, `distributed` once they were (`failed`: the payment was refused)',
});
const userRef = z.object({ id: z.uuid(), username: z.string(), displayName: z.string() });

const giftSchema = z
  .object({
    id: z.uuid(),
    tier: z.number().int().min(1).max(3),
    quantity: z.number().int(),
    amount: minor.openapi({ description: 'What the giver pays: quantity × the tier’s monthly price' }),
    currency: z.string(),
    status: giftStatus,
  })
  .openapi('SubscriptionGift');

const startedSchema = z.object({
  gift: giftSchema,
  payment: z.object({
    id: z.uuid(),
    status: z.enum(['requires_payment', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'disputed']),
    clientSecret: z.string().nullable().openapi({ description: 'Confirm the payment with Stripe.js; null once it is past taking money' }),
  }),
});

const giftDetailsSchema = giftSchema
  .extend({
    channel: userRef,
    giver: userRef,
    streamId: z.uuid().nullable(),
    distributedCount: z.number().int().nullable().openapi({ description: 'Subscriptions given; fewer than `quantity` when too few people were eligible' }),
    payment: z.object({ id: z.uuid(), status: z.string() }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    recipients: z.array(
      z.object({
        user: userRef,
        subscriptionId: z.uuid(),
        status: z.enum(['incomplete', 'active', 'past_due', 'lapsed', 'ended']),
      }),
    ),
  })
  .openapi('SubscriptionGiftDetails');


export interface SubscriptionGiftRouteDeps {
  config: Config;
  db: Db;
  gateway: PaymentGateway;
}

/** `/channels/:id/subscription-gifts`, `/subscription-gifts/:id`. */
export function subscriptionGiftRoutes(deps: SubscriptionGiftRouteDeps) {
  const { config, db, gateway } = deps;
  const rules = subscriptionRules(config);
  const currency = config.money.settlementCurrency;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/channels/{id}/subscription-gifts',
      tags: ['subscriptions'],
      summary: 'Buy one-month subscriptions to a channel for other viewers; confirm the payment with the returned client secret',
      description:
        'The `Idempotency-Key` header is required: a retry with the same key and body answers 200 with the same gift, payment and client secret ' +
        '(header `Idempotent-Replayed: true`); the same key with another body is refused (409 `idempotency_key_reused`). ' +
        'Once Stripe reports the payment, each subscription goes to a different signed-in viewer of `streamId`’s room (else a follower of the ' +
        'channel) who is not you, not banned in the channel’s chat and not subscribed to it; each lasts one month and does not renew. ' +
        `Counts against RATE_LIMIT_PAYMENTS_PER_HOUR and RATE_LIMIT_SUBSCRIPTION_CHANGES_PER_HOUR.`,
      security: [{ bearerAuth: [] }],
      middleware: [
        requireAuth,
        rateLimit(db, { name: 'payment', limit: config.payments.paymentsPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
        rateLimit(db, { name: 'subscription-change', limit: config.subscriptions.changesPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: {
        params: uuidParam,
        headers: idempotencyKeyHeader('gift you mean to buy'),
        body: jsonBody(
          z
            .object({
              tier: z.number().int().min(1).max(3).openapi({ description: 'Tier 1, 2 or 3 (GET /channels/:id/subscription-tiers)' }),
              quantity: z.number().int().min(1).max(SUBSCRIPTION_GIFT_MAX_QUANTITY).openapi({ description: `How many subscriptions, 1–${SUBSCRIPTION_GIFT_MAX_QUANTITY}` }),
              streamId: z.uuid().optional().openapi({ description: 'The channel’s stream whose room the recipients are chosen from' }),
            })
            .strict(),
        ),
      },
      responses: {
        201: enveloped(startedSchema, 'Started: confirm it with `clientSecret`'),
        200: enveloped(startedSchema, 'Started earlier under this Idempotency-Key'),
        ...errorResponses({
          400: 'Invalid fields, or no Idempotency-Key',
          401: 'Not signed in',
          403: '`forbidden` with `details.reason` `chat_banned`|`chat_timeout`: you are restricted in this channel’s chat',
          404: 'No such channel, or no such stream of this channel',
          409: '`idempotency_key_reused`, the channel cannot receive subscriptions, or `payment_expired`',
          422: '`unprocessable`: your own channel; or the live room has fewer eligible viewers than `quantity` (`details.eligible`)',
          429: 'Too many payments or subscription changes',
          503: 'Payments are not configured, or Stripe is unavailable (retry with the same key)',
        }),
      },
    }),
    async (c) => {
      if (!config.payments.stripe) throw new AppError('unavailable', 'Payments are not configured on this server');
      const body = c.req.valid('json');
      const started = await startSubscriptionGift(db, rules, currency, {
        giver: currentUser(c),
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        channelId: c.req.valid('param').id,
        tier: body.tier as SubscriptionTier,
        quantity: body.quantity,
        streamId: body.streamId ?? null,
      });
      const clientSecret = await clientSecretFor(db, gateway, started.payment);
      const answer = ok({
        gift: await findGiftSummary(db, started.giftId, started.payment),
        payment: { id: started.payment.id, status: started.payment.status, clientSecret },
      });
      return createdOrReplayed(c, answer, started.created);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/subscription-gifts/{id}',
      tags: ['subscriptions'],
      summary: 'A gift of subscriptions and who received them (its giver and admins)',
      ...signedIn,
      request: { params: uuidParam },
      responses: {
        200: enveloped(giftDetailsSchema, 'The gift'),
        ...errorResponses({ 401: 'Not signed in', 404: 'No such gift, or not yours' }),
      },
    }),
    async (c) => c.json(ok(await findOwnGift(db, c.req.valid('param').id, currentUser(c))), 200),
  );

  return router;
}
