import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Db, Tx } from '../db.ts';
import { CURRENT_STATUSES } from './rules.ts';

// Who may receive a gifted subscription (README "Gift subscriptions"): a signed-in viewer of
// the gift's stream, else a follower of the channel; never the giver, the channel itself, a
// user banned from the channel's chat, a closed or banned account, or anyone who already has a
// current subscription to the channel. The choice is random but fixed by the gift's id, so a
// distribution that is retried picks the same people.

/** At most this many subscriptions in one gift (the table's check says the same). */
export const SUBSCRIPTION_GIFT_MAX_QUANTITY = 100;

/** How far past the quantity each source is read, for candidates lost to a concurrent subscribe. */
const CANDIDATE_SLACK = 25;

/** A candidate's place in a gift's draw: md5 of `<giftId>:<userId>`, the same in SQL (md5()) and here. */
export const recipientRank = (giftId: string, userId: string): string => createHash('md5').update(`${giftId}:${userId}`).digest('hex');

/**
 * The order in which a gift offers its subscriptions: the stream's viewers first, then the
 * channel's followers who were not viewers, each in the gift's draw order (ties, which md5 makes
 * practically impossible, by id). Pure, so a retry with the same candidates gives the same list.
 */
export function recipientOrder(giftId: string, viewers: readonly string[], followers: readonly string[]): string[] {
  const drawn = (ids: Iterable<string>) =>
    [...new Set(ids)]
      .map((id) => ({ id, rank: recipientRank(giftId, id) }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((c) => c.id);
  const first = drawn(viewers);
  const seen = new Set(first);
  return [...first, ...drawn(followers.filter((id) => !seen.has(id)))];
}

/** The conditions on `users u` that make someone eligible for a gift from `giverId` to `channelId`. */
function eligible(channelId: string, giverId: string): RawBuilder<boolean> {
  return sql<boolean>`u.deleted_at is null and u.status <> 'banned'
    and u.id <> ${giverId}::uuid and u.id <> ${channelId}::uuid
    and not exists (
      select 1 from subscriptions s
      where s.subscriber_id = u.id and s.channel_id = ${channelId}::uuid and s.status in (${sql.join([...CURRENT_STATUSES])}))
    and coalesce((
      select l.action from channel_moderation_log l
      where l.owner_id = ${channelId}::uuid and l.target_id = u.id and l.action in ('timeout', 'ban', 'lift')
      order by l.id desc limit 1), '') <> 'ban'`;
}

/** Signed-in viewers are keyed `u:<userId>` in stream_viewers (realtime/viewers.ts userViewerKey). */
const viewersOf = (streamId: string) => sql`select substring(v.viewer_key from 3)::uuid as id from stream_viewers v where v.stream_id = ${streamId}::uuid and v.viewer_key like 'u:%'`;

/** How many of the stream's signed-in viewers a gift from `giverId` could reach now. */
export async function countEligibleViewers(db: Db | Tx, input: { channelId: string; giverId: string; streamId: string }): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*)::text as n from (${viewersOf(input.streamId)}) v join users u on u.id = v.id
    where ${eligible(input.channelId, input.giverId)}`.execute(db);
  return Number(rows[0]!.n);
}

export interface GiftCandidates {
  viewers: string[];
  followers: string[];
}

/**
 * Eligible viewers of the gift's stream and eligible followers of its channel, each the first
 * `quantity` (and a little slack) in the gift's draw order.
 */
export async function giftCandidates(
  trx: Tx,
  gift: { id: string; channelId: string; giverId: string; streamId: string | null; quantity: number },
): Promise<GiftCandidates> {
  const limit = gift.quantity + CANDIDATE_SLACK;
  const draw = sql`md5(${gift.id}::text || ':' || u.id::text)`;
  const viewers = gift.streamId
    ? (
        await sql<{ id: string }>`
          select u.id from (${viewersOf(gift.streamId)}) v join users u on u.id = v.id
          where ${eligible(gift.channelId, gift.giverId)} order by ${draw} limit ${limit}`.execute(trx)
      ).rows.map((r) => r.id)
    : [];
  const followers = (
    await sql<{ id: string }>`
      select u.id from follows f join users u on u.id = f.follower_id
      where f.followee_id = ${gift.channelId}::uuid and ${eligible(gift.channelId, gift.giverId)} order by ${draw} limit ${limit}`.execute(trx)
  ).rows.map((r) => r.id);
  return { viewers, followers };
}
