import { sql } from 'kysely';
import type { Db, Tx } from '../db.ts';
import type { ChatBadge } from '../realtime-contract.ts';
import type { SubscriptionTier } from '../schema.ts';
import { PERK_STATUSES } from './rules.ts';

// Reads of subscriber perks (README "Subscriptions"): whether a user holds perks on a channel
// (subscriber-only chat and videos), and the subscriber badge chat frames carry. Only reads:
// the `subscription/<id>` workflow writes `status`, and a perk lasts exactly while it is in
// PERK_STATUSES. At most one such subscription exists per (subscriber, channel) (the current
// pair index), so neither read needs to pick among several.

export interface SubscriberBadge {
  tier: SubscriptionTier;
  /** Paid periods of the subscriber on the channel, over every subscription they had there. */
  months: number;
}

/** Whether `userId` holds a subscriber's perks on `channelId` now. One query. */
export async function hasChannelPerks(db: Db | Tx, userId: string, channelId: string): Promise<boolean> {
  const row = await db
    .selectFrom('subscriptions')
    .select('id')
    .where('subscriber_id', '=', userId)
    .where('channel_id', '=', channelId)
    .where('status', 'in', PERK_STATUSES)
    .executeTakeFirst();
  return row !== undefined;
}

/** Which of `channelIds` `userId` holds perks on, in one query (for lists of many channels' videos). */
export async function channelsWithPerks(db: Db | Tx, userId: string, channelIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(channelIds)];
  if (!ids.length) return new Set();
  const rows = await db
    .selectFrom('subscriptions')
    .select('channel_id')
    .where('subscriber_id', '=', userId)
    .where('channel_id', 'in', ids)
    .where('status', 'in', PERK_STATUSES)
    .execute();
  return new Set(rows.map((r) => r.channel_id));
}

/**
 * The subscriber badges of many users on one channel, in one query: a user without perks
 * is absent from the map. `months` counts the pair's `subscription_periods` (one index range
 * per pair), so a returning subscriber keeps the months of their earlier subscriptions.
 */
export async function subscriberBadges(db: Db | Tx, channelId: string, userIds: readonly string[]): Promise<Map<string, SubscriberBadge>> {
  const ids = [...new Set(userIds)];
  if (!ids.length) return new Map();
  const { rows } = await sql<{ subscriber_id: string; tier: SubscriptionTier; months: number }>`
    select s.subscriber_id, s.tier,
      (select count(*)::int from subscription_periods p where p.subscriber_id = s.subscriber_id and p.channel_id = s.channel_id) as months
    from subscriptions s
    where s.channel_id = ${channelId}::uuid
      and s.subscriber_id = any(${ids}::uuid[])
      and s.status in (${sql.join(PERK_STATUSES.map((s) => sql.lit(s)))})`.execute(db);
  return new Map(rows.map((r) => [r.subscriber_id, { tier: r.tier, months: r.months }]));
}

/** The `badges` of a chat frame for one sender's badge (or none). Pure. */
export function chatBadges(badge: SubscriberBadge | undefined): ChatBadge[] {
  return badge ? [{ type: 'subscriber', tier: badge.tier, months: badge.months }] : [];
}
