import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';
import type { PaymentGateway } from '../../lib/stripe.ts';
import type { AppEnv } from '../context.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { createdOrReplayed, enveloped, errorResponses, idempotencyKeyHeader, jsonBody, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { clientSecretFor, coinPacksOnSale, findOwnPayment, paymentView, startCoinPurchase, startTip, type StartedPayment } from './service.ts';

// Money in: tips to creators and coin packs, paid through Stripe. These routes only start a
// payment and show it; what it books is decided by the provider's webhook events
// (activities/payment-handlers.ts).

const minor = z.number().int().openapi({ description: 'Integer minor units of `currency` (cents for USD)' });

const paymentSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['tip', 'coin_purchase', 'subscription_gift']),
    status: z.enum(['requires_payment', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'disputed']),
    amount: minor,
    currency: z.string(),
    payerId: z.uuid(),
    creatorId: z.uuid().nullable(),
    streamId: z.uuid().nullable(),
    videoId: z.uuid().nullable(),
    coinPackId: z.uuid().nullable(),
    coins: z.number().int().nullable().openapi({ description: 'Coins bought (coin purchases)' }),
    message: z.string().nullable(),
    anonymous: z.boolean(),
    refundedAmount: minor.openapi({ description: 'What the provider has refunded so far' }),
    failureReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    succeededAt: z.iso.datetime().nullable(),
  })
  .openapi('Payment');

const startedSchema = z.object({
  payment: paymentSchema,
  clientSecret: z.string().nullable().openapi({ description: 'Confirm the payment with Stripe.js; null once it is past taking money' }),
});

const coinPackSchema = z
  .object({ id: z.uuid(), slug: z.string(), coins: z.number().int(), amount: minor.openapi({ description: 'The price' }), currency: z.string() })
  .openapi('CoinPack');

const idempotencyHeader = idempotencyKeyHeader('payment you mean to make');

export interface PaymentRouteDeps {
  config: Config;
  db: Db;
  gateway: PaymentGateway;
  rules: MoneyRules;
}

/** `/tips`, `/coin-packs`, `/coin-purchases`, `/payments/:id`. */
export function paymentRoutes(deps: PaymentRouteDeps) {
  const { config, db, gateway, rules } = deps;
  const { tipMinMinor, tipMaxMinor } = config.payments;
  const currency = config.money.settlementCurrency;
  const router = createRouter();
  const startLimits = [
    requireAuth,
    rateLimit(db, { name: 'payment', limit: config.payments.paymentsPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
  ];
  const replayNote =
    'The `Idempotency-Key` header is required: a retry with the same key and body answers 200 with the same payment and client secret ' +
    '(header `Idempotent-Replayed: true`); the same key with another body is refused (409 `idempotency_key_reused`).';

  /** Payments are off without Stripe's keys: refuse before a row is written. */
  const requirePayments = () => {
    if (!config.payments.stripe) throw new AppError('unavailable', 'Payments are not configured on this server');
  };

  async function answer(c: Context<AppEnv>, started: StartedPayment) {
    const clientSecret = await clientSecretFor(db, gateway, started.payment);
    return createdOrReplayed(c, ok({ payment: paymentView(started.payment), clientSecret }), started.created);
  }

  const tipBody = z
    .object({
      streamId: z.uuid().optional(),
      videoId: z.uuid().optional(),
      amount: z.number().int().min(tipMinMinor).max(tipMaxMinor).openapi({ description: `Minor units, ${tipMinMinor}–${tipMaxMinor}` }),
      currency: z
        .string()
        .regex(/^[A-Za-z]{3}$/)
        .transform((v) => v.toUpperCase())
        .refine((v) => v === currency, `must be ${currency}, the currency tips are paid in`)
        .openapi({ description: `The settlement currency, ${currency}` }),
      message: z.string().trim().max(200).optional(),
      anonymous: z.boolean().default(false).openapi({ description: 'Hide your name from the creator and the room' }),
    })
    .strict()
    .refine((b) => (b.streamId === undefined) !== (b.videoId === undefined), { message: 'give exactly one of streamId and videoId', path: ['streamId'] });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/tips',
      tags: ['payments'],
      summary: 'Tip a creator on a stream or a video; confirm the payment with the returned client secret',
      description:
        `${replayNote} Once Stripe reports the payment, the creator's pending earnings are credited (amount less the platform fee and the ` +
        'processing fee), the creator is notified (`tip_received`), and a live stream\'s room gets a `donation` frame.',
      security: [{ bearerAuth: [] }],
      middleware: startLimits,
      request: { headers: idempotencyHeader, body: jsonBody(tipBody) },
      responses: {
        201: enveloped(startedSchema, 'Started: confirm it with `clientSecret`'),
        200: enveloped(startedSchema, 'Started earlier under this Idempotency-Key'),
        ...errorResponses({
          400: 'Invalid fields (amount out of bounds, another currency, not exactly one target), or no Idempotency-Key',
          401: 'Not signed in',
          403: "Your own stream or video; or (`forbidden`, `details.reason` `chat_banned`|`chat_timeout`) a tip to a stream of a channel whose chat you are restricted in",
          404: 'No such stream or video (or not yours to see)',
          409: '`idempotency_key_reused`, the creator cannot receive tips, or `payment_expired` (no PaymentIntent within 23 h of the first request: start a new payment)',
          429: 'Too many payments',
          503: 'Payments are not configured, or Stripe is unavailable (retry with the same key)',
        }),
      },
    }),
    async (c) => {
      requirePayments();
      const body = c.req.valid('json');
      const started = await startTip(db, {
        payer: currentUser(c),
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        target: body.streamId ? { streamId: body.streamId } : { videoId: body.videoId! },
        amount: BigInt(body.amount),
        currency: body.currency,
        message: body.message || null,
        anonymous: body.anonymous,
      });
      return answer(c, started);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/coin-packs',
      tags: ['payments'],
      summary: 'Coin packs on sale, in display order',
      responses: { 200: enveloped(z.array(coinPackSchema), 'Every pack on sale') },
    }),
    async (c) => {
      const packs = await coinPacksOnSale(db, rules);
      return c.json(ok(packs.map((p) => ({ id: p.id, slug: p.slug, coins: toJsonAmount(p.coins), amount: toJsonAmount(p.price), currency: p.currency }))), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/coin-purchases',
      tags: ['payments'],
      summary: 'Buy a coin pack; confirm the payment with the returned client secret',
      description: `${replayNote} The coins reach your wallet once Stripe reports the payment.`,
      security: [{ bearerAuth: [] }],
      middleware: startLimits,
      request: { headers: idempotencyHeader, body: jsonBody(z.object({ coinPackId: z.uuid() }).strict()) },
      responses: {
        201: enveloped(startedSchema, 'Started: confirm it with `clientSecret`'),
        200: enveloped(startedSchema, 'Started earlier under this Idempotency-Key'),
        ...errorResponses({
          400: 'Invalid fields, or no Idempotency-Key',
          401: 'Not signed in',
          404: 'No such coin pack on sale',
          409: '`idempotency_key_reused`, or `payment_expired` (no PaymentIntent within 23 h of the first request: start a new payment)',
          429: 'Too many payments',
          503: 'Payments are not configured, or Stripe is unavailable (retry with the same key)',
        }),
      },
    }),
    async (c) => {
      requirePayments();
      const started = await startCoinPurchase(db, rules, {
        payerId: currentUser(c).userId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        coinPackId: c.req.valid('json').coinPackId,
      });
      return answer(c, started);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payments/{id}',
      tags: ['payments'],
      summary: 'A payment and where it stands (its payer, finance and admins)',
      ...signedIn,
      request: { params: uuidParam },
      responses: { 200: enveloped(paymentSchema, 'The payment'), ...errorResponses({ 401: 'Not signed in', 404: 'No such payment, or not yours' }) },
    }),
    async (c) => c.json(ok(paymentView(await findOwnPayment(db, c.req.valid('param').id, currentUser(c)))), 200),
  );

  return router;
}
