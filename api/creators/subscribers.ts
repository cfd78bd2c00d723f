import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { listSubscribers, subscriberStats } from '../../lib/subscriptions/stats.ts';
import { currentUser, requireRole } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';

const tier = z.number().int().min(1).max(3);
const creatorsOnly = { security: [{ bearerAuth: [] }], middleware: [requireRole('creator', 'moderator', 'admin', 'finance')] };
const roleErrors = { 401: 'Not signed in', 403: 'Viewers have no channel to subscribe to: streaming or uploading makes you a creator' };

const statsSchema = z
  .object({
    total: z.number().int().min(0).openapi({ description: 'Subscribers with perks now (active, or past due within the grace period)' }),
    tiers: z.array(z.object({ tier, name: z.string(), count: z.number().int().min(0) })).openapi({ description: 'Every tier, with its current name' }),
    churn: z
      .object({
        month: z.string().openapi({ description: 'The current calendar month in UTC, `YYYY-MM`', example: '2026-12' }),
        started: z.number().int().min(0).openapi({ description: 'Subscriptions whose first period was paid this month (gifts included)' }),
        ended: z.number().int().min(0).openapi({ description: 'Ended this month: canceled at period end, gift expired, or closed' }),
        lapsed: z.number().int().min(0).openapi({ description: 'Lost their perks this month: a renewal stayed unpaid past the grace period' }),
      })
      .openapi({ description: 'This month so far' }),
  })
  .openapi('SubscriberStats');

const subscriberSchema = z
  .object({
    user: z.object({ id: z.uuid(), username: z.string(), displayName: z.string() }),
    tier,
    monthsSubscribed: z.number().int().min(0).openapi({ description: 'Paid periods of this subscriber on your channel, over all their subscriptions' }),
    status: z.enum(['active', 'past_due']),
    since: z.string().openapi({ description: "When this subscription's first period began" }),
    gifted: z.boolean().openapi({ description: 'Received as a gift' }),
  })
  .openapi('ChannelSubscriber');

/** `/creators/me/subscribers…`: a creator's subscribers, counted and listed. */
export function creatorSubscriberRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/subscribers',
      tags: ['subscriptions'],
      summary: "Your channel's subscribers: how many per tier, and this month's churn (creators)",
      ...creatorsOnly,
      responses: { 200: enveloped(statsSchema, 'Counts'), ...errorResponses(roleErrors) },
    }),
    async (c) => c.json(ok(await subscriberStats(db, currentUser(c).userId)), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/subscribers/list',
      tags: ['subscriptions'],
      summary: "Your channel's subscribers with perks, newest subscription first (creators)",
      ...creatorsOnly,
      request: { query: pageQuerySchema },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(subscriberSchema) } } },
        ...errorResponses({ 400: 'Invalid cursor or limit', ...roleErrors }),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listSubscribers(db, currentUser(c).userId, limit, decodeCursor(cursor, timeKeyCursorSchema));
      return c.json(
        page(
          rows,
          limit,
          (r) => ({
            user: { id: r.user_id, username: r.username, displayName: r.display_name },
            tier: r.tier,
            monthsSubscribed: r.months,
            status: r.status as 'active' | 'past_due',
            since: r.since.toISOString(),
            gifted: r.gifted,
          }),
          (r) => ({ at: r.created_key, id: r.id }),
        ),
        200,
      );
    },
  );

  return router;
}
