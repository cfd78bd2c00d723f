import { sql } from 'kysely';
import type { Db } from '../db.ts';
import type { SubscriptionStatus, SubscriptionTier } from '../schema.ts';
import { defaultTierName, PERK_STATUSES, SUBSCRIPTION_TIERS } from './rules.ts';

// A creator's subscribers (README "Subscriptions"): counts per tier, this month's churn, and
// the list of current perk holders. Reads only.

/** The calendar month (UTC) `at` falls in: its `YYYY-MM` and its bounds [start, end). Pure. */
export function calendarMonthUtc(at: Date): { month: string; start: Date; end: Date } {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  return { month: `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}`, start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
}

export interface SubscriberStats {
  total: number;
  tiers: { tier: SubscriptionTier; name: string; count: number }[];
  churn: { month: string; started: number; ended: number; lapsed: number };
}

/**
 * One statement. `started`: subscriptions whose first paid period was booked this month (gifts
 * included); `ended`: ended this month after having started (canceled, gift expired, closed;
 * an unpaid checkout that expired never started); `lapsed`: lost their perks this month after
 * a failed renewal's grace.
 */
export async function subscriberStats(db: Db, channelId: string, now = new Date()): Promise<SubscriberStats> {
  const { month, start, end } = calendarMonthUtc(now);
  const perk = sql.join(PERK_STATUSES.map((s) => sql.lit(s)));
  const { rows } = await sql<{ tier: SubscriptionTier; name: string | null; count: number; started: number; ended: number; lapsed: number }>`
    with churn as (
      select
        (select count(*)::int from subscriptions s
          where s.channel_id = ${channelId}::uuid
            and (select min(p.paid_at) from subscription_periods p where p.subscription_id = s.id) >= ${start}
            and (select min(p.paid_at) from subscription_periods p where p.subscription_id = s.id) < ${end}) as started,
        (select count(*)::int from subscriptions s
          where s.channel_id = ${channelId}::uuid and s.status = 'ended' and s.ended_reason <> 'incomplete_expired'
            and s.ended_at >= ${start} and s.ended_at < ${end}) as ended,
        (select count(*)::int from subscriptions s
          where s.channel_id = ${channelId}::uuid and s.status = 'lapsed' and s.ended_at >= ${start} and s.ended_at < ${end}) as lapsed
    )
    select t.tier::smallint as tier, tn.name,
      (select count(*)::int from subscriptions s where s.channel_id = ${channelId}::uuid and s.tier = t.tier and s.status in (${perk})) as count,
      churn.started, churn.ended, churn.lapsed
    from unnest(${[...SUBSCRIPTION_TIERS]}::int[]) as t(tier)
    cross join churn
    left join subscription_tier_names tn on tn.channel_id = ${channelId}::uuid and tn.tier = t.tier
    order by t.tier`.execute(db);
  const first = rows[0]!;
  return {
    total: rows.reduce((sum, r) => sum + r.count, 0),
    tiers: rows.map((r) => ({ tier: r.tier, name: r.name ?? defaultTierName(r.tier), count: r.count })),
    churn: { month, started: first.started, ended: first.ended, lapsed: first.lapsed },
  };
}

export interface SubscriberRow {
  id: string;
  created_key: string;
  user_id: string;
  username: string;
  display_name: string;
  tier: SubscriptionTier;
  status: SubscriptionStatus;
  since: Date;
  gifted: boolean;
  months: number;
}

/** The channel's perk holders, newest subscription first, `limit + 1` rows after the (created_at, id) cursor. */
export async function listSubscribers(db: Db, channelId: string, limit: number, after?: { at: string; id: string }): Promise<SubscriberRow[]> {
  const { rows } = await sql<SubscriberRow>`
    select s.id, s.created_at::text as created_key, u.id as user_id, u.username, u.display_name, s.tier, s.status,
      coalesce((select min(p.period_start) from subscription_periods p where p.subscription_id = s.id), s.created_at) as since,
      s.gift_id is not null as gifted,
      (select count(*)::int from subscription_periods p where p.subscriber_id = s.subscriber_id and p.channel_id = s.channel_id) as months
    from subscriptions s join users u on u.id = s.subscriber_id
    where s.channel_id = ${channelId}::uuid and s.status in (${sql.join(PERK_STATUSES.map((s) => sql.lit(s)))})
      ${after ? sql`and (s.created_at, s.id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``}
    order by s.created_at desc, s.id desc
    limit ${limit + 1}`.execute(db);
  return rows;
}
