import { createRoute, z } from '@hono/zod-openapi';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import { sql } from 'kysely';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { MAX_BUCKETS, resolveRange, totalsOf, zeroFilled, type AnalyticsRange } from '../../lib/analytics.ts';
import { currentUser, requireRole } from '../middleware/auth.ts';
import { enveloped, errorResponses, ok } from '../responses.ts';
import { createRouter } from '../router.ts';

/** Broadcasts listed per request at most, newest first. */
export const MAX_BROADCASTS = 100;

const count = z.number().int().min(0);
const instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .optional()
  .openapi({ description: 'A UTC date (`2026-12-01`, its midnight) or a date-time with offset', example: '2026-12-01' });

const earningsSchema = z.object({
  currency: z.string().openapi({ description: 'The settlement currency (ISO 4217)' }),
  amount: z.number().int().openapi({ description: 'Integer minor units, net of refunds and disputes (may be negative)' }),
});

const metrics = {
  views: count.openapi({ description: 'Views counted on your videos (once per viewer per video per VIEW_WINDOW_SECONDS)' }),
  watchTimeSeconds: count.openapi({ description: 'Seconds your videos were watched' }),
  averageViewDurationSeconds: count.openapi({ description: 'Watch time ÷ views, rounded; 0 without views' }),
  likes: count.openapi({ description: 'Likes given to your videos and streams' }),
  comments: count.openapi({ description: 'Comments posted on your videos, not deleted or hidden' }),
  newFollowers: count.openapi({ description: 'Follows of your channel made then (and not undone)' }),
  earnings: earningsSchema,
};

const pointSchema = z
  .object({
    bucketStart: z.iso.datetime(),
    ...metrics,
    uniqueViewers: count.openapi({ description: 'Distinct viewers who watched your videos in this bucket' }),
  })
  .openapi('AnalyticsBucket');

const broadcastSchema = z
  .object({
    streamId: z.uuid(),
    title: z.string(),
    status: z.string(),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable().openapi({ description: 'null while on air' }),
    peakViewers: count.openapi({ description: 'Most concurrent viewers' }),
    averageViewers: z.number().min(0).openapi({ description: 'Concurrent viewers averaged over every minute on air (one decimal)' }),
    uniqueViewers: count.openapi({ description: 'Distinct viewers (signed-in users and anonymous addresses)' }),
    chatMessages: count.openapi({ description: 'Chat messages sent during it (deleted ones included)' }),
    likes: count,
  })
  .openapi('BroadcastAnalytics');

const analyticsSchema = z
  .object({
    granularity: z.enum(['hour', 'day']),
    from: z.iso.datetime().openapi({ description: 'The first bucket’s start (UTC)' }),
    to: z.iso.datetime().openapi({ description: 'The end of the last bucket (exclusive)' }),
    computedAt: z.iso.datetime().nullable().openapi({ description: 'When the rollup last recomputed these buckets; null if it never has' }),
    totals: z.object(metrics).openapi({ description: 'Sums over the range (unique viewers are per bucket, so they have no total)' }),
    series: z.array(pointSchema).openapi({ description: 'Every bucket of the range, oldest first; zeros where nothing happened' }),
    broadcasts: z.array(broadcastSchema).openapi({ description: `Your broadcasts on air at some time in the range, newest first (at most ${MAX_BROADCASTS})` }),
  })
  .openapi('CreatorAnalytics');

async function storedBuckets(db: Db, creatorId: string, range: AnalyticsRange) {
  const table = range.granularity === 'hour' ? 'creator_analytics_hourly' : 'creator_analytics_daily';
  const rows = await db
    .selectFrom(table)
    .selectAll()
    .where('creator_id', '=', creatorId)
    .where('bucket_start', '>=', range.from)
    .where('bucket_start', '<', range.to)
    .execute();
  return rows.map((r) => ({
    bucketStart: r.bucket_start,
    views: r.views,
    uniqueViewers: r.unique_viewers,
    watchTimeSeconds: r.watch_seconds,
    likes: r.likes,
    comments: r.comments,
    newFollowers: r.new_followers,
    // Minor units, exact: a sum beyond JSON's exact integers is refused, never rounded.
    earnings: toJsonAmount(BigInt(r.earnings)),
  }));
}

async function lastComputed(db: Db, range: AnalyticsRange): Promise<Date | null> {
  const row = await db
    .selectFrom('analytics_buckets')
    .select((eb) => eb.fn.max('computed_at').as('at'))
    .where('granularity', '=', range.granularity)
    .where('bucket_start', '>=', range.from)
    .where('bucket_start', '<', range.to)
    .executeTakeFirst();
  return row?.at ?? null;
}

async function broadcastsIn(db: Db, creatorId: string, range: AnalyticsRange) {
  const rows = await db
    .selectFrom('streams as s')
    .leftJoin('broadcast_analytics as b', 'b.stream_id', 's.id')
    .select(['s.id', 's.title', 's.status', 's.started_at', 's.ended_at', 's.peak_viewers', 's.unique_viewers', 's.like_count', 'b.average_viewers', 'b.chat_messages'])
    .where('s.owner_id', '=', creatorId)
    .where('s.started_at', 'is not', null)
    .where('s.started_at', '<', range.to)
    .where(sql<boolean>`coalesce(s.ended_at, now()) >= ${range.from}`)
    .orderBy('s.started_at', 'desc')
    .limit(MAX_BROADCASTS)
    .execute();
  return rows.map((r) => ({
    streamId: r.id,
    title: r.title,
    status: r.status,
    startedAt: r.started_at!.toISOString(),
    endedAt: r.ended_at?.toISOString() ?? null,
    peakViewers: r.peak_viewers,
    averageViewers: r.average_viewers ?? 0,
    uniqueViewers: r.unique_viewers,
    chatMessages: r.chat_messages ?? 0,
    likes: r.like_count,
  }));
}

/** `GET /creators/me/analytics`: a creator's numbers per UTC hour or day, read from the rollup's buckets. */
export function creatorAnalyticsRoutes(deps: { config: Config; db: Db }) {
  const { db } = deps;
  const currency = deps.config.money.settlementCurrency;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/analytics',
      tags: ['analytics'],
      summary: 'Your channel’s numbers per UTC hour or day: views, watch time, likes, comments, followers, earnings and broadcasts (creators)',
      description:
        `Buckets are UTC hours or days; \`from\` is rounded down and \`to\` up to bucket boundaries. Without \`to\` the range ends with the current bucket; ` +
        `without \`from\` it is the last 24 hours or 30 days. At most ${MAX_BUCKETS.hour} hour buckets (31 days) or ${MAX_BUCKETS.day} day buckets per request. ` +
        'The `analytics-rollup` Schedule recomputes the buckets every five minutes, so the numbers lag by up to that.',
      security: [{ bearerAuth: [] }],
      middleware: [requireRole('creator', 'moderator', 'admin', 'finance')],
      request: {
        query: z.object({
          granularity: z.enum(['hour', 'day']).default('day'),
          from: instant,
          to: instant,
        }),
      },
      responses: {
        200: enveloped(analyticsSchema, 'The range’s buckets, totals and broadcasts'),
        ...errorResponses({
          400: 'Invalid field, `from` not before `to`, or a range of too many buckets',
          401: 'Not signed in',
          403: 'Viewers have no channel: streaming or uploading makes you a creator',
        }),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const range = resolveRange(
        { granularity: query.granularity, from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined },
        new Date(),
      );
      if ('problem' in range) throw new AppError('validation_failed', range.problem, [{ field: 'from', message: range.problem }]);
      const creatorId = currentUser(c).userId;
      const [rows, computedAt, broadcasts] = await Promise.all([storedBuckets(db, creatorId, range), lastComputed(db, range), broadcastsIn(db, creatorId, range)]);
      const series = zeroFilled(range, rows);
      const { earnings, ...totals } = totalsOf(series);
      return c.json(
        ok({
          granularity: range.granularity,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          computedAt: computedAt?.toISOString() ?? null,
          totals: { ...totals, earnings: { currency, amount: earnings } },
          series: series.map(({ earnings: amount, bucketStart, ...point }) => ({ bucketStart: bucketStart.toISOString(), ...point, earnings: { currency, amount } })),
          broadcasts,
        }),
        200,
      );
    },
  );

  return router;
}
