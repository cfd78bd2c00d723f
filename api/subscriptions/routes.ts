import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SubscriptionGateway } from '../../lib/stripe.ts';
import { subscriptionRules } from '../../lib/subscriptions/config.ts';
import type { SubscriptionTier } from '../../lib/schema.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { currentUser, requireAuth, requireRole, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { createdOrReplayed, decodeCursor, enveloped, idempotencyKeyHeader, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import {
  changeTier,
  findChannel,
  ownSubscriptions,
  ownSubscriptionTo,
  renameTiers,
  setCancelAtPeriodEnd,
  subscribe,
  tiersOf,
  type SubscriptionServiceDeps,
} from './service.ts';

// Channel subscriptions (README "Subscriptions"): tiers, subscribing through Stripe Billing,
// and the subscriber's own list, cancel, resume and tier change. What a subscription's status
// becomes is decided by its `subscription/<id>` workflow from Stripe's invoice events.

const userRef = z.object({ id: z.uuid(), username: z.string(), displayName: z.string() });
const tierField = z.union([z.literal(1), z.literal(2), z.literal(3)]).openapi({ description: 'Tier 1, 2 or 3', type: 'integer', enum: [1, 2, 3] });

const tierSchema = z
  .object({ tier: tierField, name: z.string(), price: z.number().int().openapi({ description: 'Monthly price, minor units' }), currency: z.string() })
  .openapi('SubscriptionTier');

export const subscriptionViewSchema = z
  .object({
    id: z.uuid(),
    channel: userRef,
    subscriber: userRef,
    tier: tierField,
    tierName: z.string(),
    price: z.number().int().openapi({ description: 'Price of one period when it was chosen, minor units' }),
    currency: z.string(),
    status: z.enum(['incomplete', 'active', 'past_due', 'lapsed', 'ended']),
    renews: z.boolean().openapi({ description: 'False for a gift (one period)' }),
    cancelAtPeriodEnd: z.boolean(),
    currentPeriodStart: z.iso.datetime().nullable(),
    currentPeriodEnd: z.iso.datetime().nullable(),
    pastDueSince: z.iso.datetime().nullable(),
    gift: z.object({ id: z.uuid(), giver: userRef }).nullable(),
    monthsSubscribed: z.number().int().openapi({ description: 'Paid periods of this subscriber on this channel, all subscriptions' }),
    createdAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    endedReason: z.enum(['canceled', 'lapsed', 'gift_expired', 'incomplete_expired', 'provider_deleted', 'channel_closed']).nullable(),
  })
  .openapi('Subscription');

const startedSchema = z.object({
  subscription: subscriptionViewSchema,
  clientSecret: z.string().nullable().openapi({ description: "Confirm the first invoice's payment with Stripe.js; null once it is paid or over" }),
});

const channelParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, description: 'Channel id or username' }) });
const tierBody = z.object({ tier: tierField }).strict();

export interface SubscriptionRouteDeps {
  config: Config;
  db: Db;
  temporal: Temporal;
  gateway: SubscriptionGateway;
  logger: Pick<Logger, 'warn'>;
}

/** `/channels/:id/subscription-tiers`, `/channels/me/subscription-tiers`, `/channels/:id/subscriptions[/me]`, `/users/me/subscriptions…`. */
export function subscriptionRoutes(deps: SubscriptionRouteDeps) {
  const { config, db } = deps;
  const rules = subscriptionRules(config);
  const currency = config.money.settlementCurrency;
  const service: SubscriptionServiceDeps = { db, temporal: deps.temporal, gateway: deps.gateway, rules, currency, logger: deps.logger };
  const router = createRouter();
  const writes = [
    requireAuth,
    rateLimit(db, { name: 'subscription', limit: config.subscriptions.changesPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
  ];
  const requirePayments = () => {
    if (!config.payments.stripe) throw new AppError('unavailable', 'Payments are not configured on this server');
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/channels/{id}/subscription-tiers',
      tags: ['subscriptions'],
      summary: "A channel's subscription tiers: names (the creator's), monthly prices (the platform's)",
      request: { params: channelParam },
      responses: { 200: enveloped(z.array(tierSchema), 'Tiers 1, 2 and 3'), ...errorResponses({ 404: 'No such channel' }) },
    }),
    async (c) => {
      const channel = await findChannel(db, c.req.valid('param').id);
      return c.json(ok(await tiersOf(db, rules, currency, channel.id)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/channels/me/subscription-tiers',
      tags: ['subscriptions'],
      summary: "Rename your channel's tiers (prices are the platform's)",
      security: [{ bearerAuth: [] }],
      middleware: [requireRole('creator', 'admin')],
      request: {
        body: jsonBody(
          z
            .object({
              tiers: z
                .array(z.object({ tier: tierField, name: z.string().trim().min(1).max(40) }).strict())
                .min(1)
                .max(3)
                .refine((tiers) => new Set(tiers.map((t) => t.tier)).size === tiers.length, 'each tier at most once'),
            })
            .strict(),
        ),
      },
      responses: {
        200: enveloped(z.array(tierSchema), 'Tiers 1, 2 and 3 after the change'),
        ...errorResponses({ 400: 'Invalid names (1–40 characters) or a tier twice', 401: 'Not signed in', 403: 'Only creators have tiers' }),
      },
    }),
    async (c) => {
      const me = currentUser(c).userId;
      await renameTiers(db, me, c.req.valid('json').tiers as { tier: SubscriptionTier; name: string }[]);
      return c.json(ok(await tiersOf(db, rules, currency, me)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/channels/{id}/subscriptions',
      tags: ['subscriptions'],
      summary: 'Subscribe to a channel; confirm the first payment with the returned client secret',
      description:
        'The `Idempotency-Key` header is required: a retry with the same key and body answers 200 with the same subscription and client secret ' +
        '(header `Idempotent-Replayed: true`); the same key with another body is refused (409 `idempotency_key_reused`). ' +
        'The subscription is `incomplete` until Stripe reports its first invoice paid, then `active`.',
      security: [{ bearerAuth: [] }],
      middleware: writes,
      request: {
        params: channelParam,
        headers: idempotencyKeyHeader('subscription you mean to start'),
        body: jsonBody(tierBody),
      },
      responses: {
        201: enveloped(startedSchema, 'Started: confirm it with `clientSecret`'),
        200: enveloped(startedSchema, 'Started earlier under this Idempotency-Key'),
        ...errorResponses({
          400: 'Invalid tier, or no Idempotency-Key',
          401: 'Not signed in',
          404: 'No such channel',
          409: '`conflict` (`details.subscriptionId`: you have a current subscription to this channel) or `idempotency_key_reused`',
          422: 'Your own channel',
          429: 'Too many subscription changes',
          503: 'Payments are not configured, or Stripe is unavailable (retry with the same key)',
        }),
      },
    }),
    async (c) => {
      requirePayments();
      const channel = await findChannel(db, c.req.valid('param').id);
      const result = await subscribe(service, {
        subscriberId: currentUser(c).userId,
        channelId: channel.id,
        tier: c.req.valid('json').tier as SubscriptionTier,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      });
      return createdOrReplayed(c, ok({ subscription: result.view, clientSecret: result.clientSecret }), result.created);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/channels/{id}/subscriptions/me',
      tags: ['subscriptions'],
      summary: 'Your subscription to a channel: the current one, else the latest that ended; null when never subscribed',
      ...signedIn,
      request: { params: channelParam },
      responses: { 200: enveloped(subscriptionViewSchema.nullable(), 'The subscription, or null'), ...errorResponses({ 401: 'Not signed in', 404: 'No such channel' }) },
    }),
    async (c) => {
      const channel = await findChannel(db, c.req.valid('param').id);
      return c.json(ok(await ownSubscriptionTo(db, currentUser(c).userId, channel.id)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/users/me/subscriptions',
      tags: ['subscriptions'],
      summary: 'Your subscriptions, newest first',
      ...signedIn,
      request: {
        query: pageQuerySchema.extend({
          status: z.enum(['current', 'all']).default('current').openapi({ description: '`current`: incomplete, active or past due (default); `all`: ended ones too' }),
        }),
      },
      responses: { 200: { description: 'A page of subscriptions', content: { 'application/json': { schema: pagedEnvelope(subscriptionViewSchema) } } }, ...errorResponses({ 400: 'Invalid filter, cursor or limit', 401: 'Not signed in' }) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const after = decodeCursor(query.cursor, timeKeyCursorSchema);
      const rows = await ownSubscriptions(db, currentUser(c).userId, { current: query.status === 'current', after, limit: query.limit });
      return c.json(page(rows, query.limit, (r) => r.view, (r) => r.cursor), 200);
    },
  );

  const change = (path: string, summary: string, description: string, body?: typeof tierBody) =>
    createRoute({
      method: 'post',
      path,
      tags: ['subscriptions'],
      summary,
      description,
      security: [{ bearerAuth: [] }],
      middleware: writes,
      request: { params: uuidParam, ...(body ? { body: jsonBody(body) } : {}) },
      responses: {
        200: enveloped(subscriptionViewSchema, 'The subscription after the change'),
        ...errorResponses({
          400: 'Invalid tier',
          401: 'Not signed in',
          404: 'No such subscription of yours',
          409: 'Not active or past due, a gift, or (resume) its period has ended',
          429: 'Too many subscription changes',
          503: 'Payments are not configured, or Stripe is unavailable (retry)',
        }),
      },
    });

  router.openapi(
    change('/users/me/subscriptions/{id}/cancel', 'Cancel at the end of the current period', 'Perks last until the period ends, then the subscription ends (`canceled`). Resume before then to keep it. Repeating it changes nothing.'),
    async (c) => {
      requirePayments();
      return c.json(ok(await setCancelAtPeriodEnd(service, { id: c.req.valid('param').id, subscriberId: currentUser(c).userId, cancel: true })), 200);
    },
  );

  router.openapi(
    change('/users/me/subscriptions/{id}/resume', 'Undo a cancellation before the period ends', 'Repeating it changes nothing.'),
    async (c) => {
      requirePayments();
      return c.json(ok(await setCancelAtPeriodEnd(service, { id: c.req.valid('param').id, subscriberId: currentUser(c).userId, cancel: false })), 200);
    },
  );

  router.openapi(
    change(
      '/users/me/subscriptions/{id}/change-tier',
      'Move to another tier',
      'Stripe prorates the change on the next invoice; our books take each invoice at its amount. The new price shows at once.',
      tierBody,
    ),
    async (c) => {
      requirePayments();
      const tier = (c.req.valid('json' as never) as { tier: SubscriptionTier }).tier;
      return c.json(ok(await changeTier(service, { id: c.req.valid('param').id, subscriberId: currentUser(c).userId, tier })), 200);
    },
  );

  return router;
}
