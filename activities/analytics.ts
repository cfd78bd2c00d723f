import { heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import { countArchivedMessages } from '../lib/chat-archive.ts';
import type { Db } from '../lib/db.ts';
import type { Mongo } from '../lib/mongo.ts';
import { averageConcurrentViewers, BUCKET_MS, daysOf, hoursToRecompute } from '../lib/analytics.ts';
import type { AnalyticsGranularity } from '../lib/schema.ts';

export interface AnalyticsRollupResult {
  /** Hour buckets recomputed, oldest first (ISO). */
  hours: string[];
  /** Day buckets recomputed, oldest first (ISO). */
  days: string[];
  /** Broadcasts whose average viewers and chat messages were recomputed. */
  broadcasts: number;
}

const tableOf = { hour: 'creator_analytics_hourly', day: 'creator_analytics_daily' } as const satisfies Record<AnalyticsGranularity, string>;

/**
 * Replaces one bucket's rows (every creator's) with numbers computed from the source rows, in
 * one transaction: recomputing a bucket again writes the same numbers, and a creator whose
 * activity went away (an unlike, a deleted comment) loses the row. Recomputes take turns on an
 * advisory lock, so two never interleave their delete and insert. Answers how many creators had activity.
 */
export async function recomputeBucket(db: Db, input: { granularity: AnalyticsGranularity; start: Date; currency: string; computedAt: Date }): Promise<number> {
  const { granularity, start, currency, computedAt } = input;
  const end = new Date(start.getTime() + BUCKET_MS[granularity]);
  const table = sql.table(tableOf[granularity]);
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext('analytics-rollup'))`.execute(tx);
    await sql`delete from ${table} where bucket_start = ${start}`.execute(tx);
    const { rows } = await sql<{ creators: number }>`
      with activity as (
        select v.owner_id as creator_id, count(*) as views, 0 as unique_viewers, 0::float8 as watch_seconds, 0 as likes, 0 as comments, 0 as new_followers, 0::bigint as earnings
        from video_views w join videos v on v.id = w.video_id where w.viewed_at >= ${start} and w.viewed_at < ${end} group by v.owner_id
        union all
        select v.owner_id, 0, count(distinct w.viewer), sum(w.seconds), 0, 0, 0, 0
        from watch_time w join videos v on v.id = w.video_id where w.hour_start >= ${start} and w.hour_start < ${end} group by v.owner_id
        union all
        select v.owner_id, 0, 0, 0, count(*), 0, 0, 0
        from video_likes l join videos v on v.id = l.video_id where l.created_at >= ${start} and l.created_at < ${end} group by v.owner_id
        union all
        select s.owner_id, 0, 0, 0, count(*), 0, 0, 0
        from stream_likes l join streams s on s.id = l.stream_id where l.created_at >= ${start} and l.created_at < ${end} group by s.owner_id
        union all
        select v.owner_id, 0, 0, 0, 0, count(*), 0, 0
        from comments c join videos v on v.id = c.video_id
        where c.created_at >= ${start} and c.created_at < ${end} and c.deleted_at is null and c.moderation_hidden_at is null group by v.owner_id
        union all
        select followee_id, 0, 0, 0, 0, 0, count(*), 0 from follows where created_at >= ${start} and created_at < ${end} group by followee_id
        union all
        -- Money the creator earned or gave back (refunds, disputes), not money moving between
        -- their own earnings accounts (maturing) or leaving them (payouts).
        select a.owner_id, 0, 0, 0, 0, 0, 0, sum(case when p.side = 'credit' then p.amount else -p.amount end)
        from ledger_entries e join ledger_postings p on p.entry_id = e.id join ledger_accounts a on a.id = p.account_id
        where e.created_at >= ${start} and e.created_at < ${end} and e.kind <> 'earnings.matured' and e.kind not like 'payout.%'
          and a.kind in ('earnings_pending', 'earnings_available', 'earnings_reserved') and a.currency = ${currency} and a.owner_id is not null
        group by a.owner_id
      ), inserted as (
        insert into ${table} (creator_id, bucket_start, views, unique_viewers, watch_seconds, likes, comments, new_followers, earnings, computed_at)
        select creator_id, ${start}::timestamptz, sum(views), sum(unique_viewers), sum(watch_seconds), sum(likes), sum(comments), sum(new_followers), sum(earnings), ${computedAt}::timestamptz
        from activity group by creator_id
        returning 1
      )
      select count(*)::int as creators from inserted`.execute(tx);
    await sql`
      insert into analytics_buckets (granularity, bucket_start, computed_at) values (${granularity}, ${start}, ${computedAt})
      on conflict (granularity, bucket_start) do update set computed_at = excluded.computed_at`.execute(tx);
    return rows[0]!.creators;
  });
}

/**
 * Broadcasts on air since `since` (live now, or ended since): their average concurrent viewers
 * from the per-minute samples, and the chat messages archived for them. Replaced whole each time.
 */
export async function recomputeBroadcasts(db: Db, mongo: Mongo, input: { since: Date; now: Date }, onProgress: (done: number) => void = () => {}): Promise<number> {
  const streams = await db
    .selectFrom('streams as s')
    .leftJoin('stream_viewer_samples as v', 'v.stream_id', 's.id')
    .select(['s.id', 's.started_at', 's.ended_at', sql<string>`coalesce(sum(v.viewers), 0)::text`.as('sample_sum')])
    .where('s.started_at', 'is not', null)
    .where((eb) => eb.or([eb('s.ended_at', 'is', null), eb('s.ended_at', '>=', input.since)]))
    .groupBy('s.id')
    .execute();
  for (const [i, stream] of streams.entries()) {
    const chatMessages = await countArchivedMessages(mongo, stream.id);
    const averageViewers = averageConcurrentViewers(Number(stream.sample_sum), stream.started_at!, stream.ended_at, input.now);
    await db
      .insertInto('broadcast_analytics')
      .values({ stream_id: stream.id, average_viewers: averageViewers, chat_messages: chatMessages, computed_at: input.now })
      .onConflict((oc) => oc.column('stream_id').doUpdateSet({ average_viewers: averageViewers, chat_messages: chatMessages, computed_at: input.now }))
      .execute();
    onProgress(i + 1);
  }
  return streams.length;
}

/** The latest hour bucket a run has computed, if any. */
async function lastComputedHour(db: Db): Promise<Date | null> {
  const row = await db.selectFrom('analytics_buckets').select((eb) => eb.fn.max('bucket_start').as('last')).where('granularity', '=', 'hour').executeTakeFirst();
  return row?.last ?? null;
}

export function createAnalyticsActivities(deps: { db: Db; mongo: Mongo }) {
  return {
    /**
     * The `analytics-rollup` Schedule's work at `now`: every hour from the last one computed (at
     * least the previous hour) through the current one, the days they fall in, and the broadcasts
     * on air in that time. Idempotent: a retry recomputes the same buckets from the same rows.
     */
    async rollUpAnalytics(input: { now: string; currency: string }): Promise<AnalyticsRollupResult> {
      const now = new Date(input.now);
      const hours = hoursToRecompute(await lastComputedHour(deps.db), now);
      const days = daysOf(hours);
      for (const start of hours) {
        await recomputeBucket(deps.db, { granularity: 'hour', start, currency: input.currency, computedAt: now });
        heartbeat(start.toISOString());
      }
      for (const start of days) {
        await recomputeBucket(deps.db, { granularity: 'day', start, currency: input.currency, computedAt: now });
        heartbeat(start.toISOString());
      }
      const broadcasts = await recomputeBroadcasts(deps.db, deps.mongo, { since: hours[0]!, now }, (done) => heartbeat(`broadcasts ${done}`));
      return { hours: hours.map((h) => h.toISOString()), days: days.map((d) => d.toISOString()), broadcasts };
    },
  };
}

export type AnalyticsActivities = ReturnType<typeof createAnalyticsActivities>;
