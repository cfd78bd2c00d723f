import { sql } from 'kysely';
import type { Db } from '../db.ts';
import { restrictionOf } from '../moderation/channel-store.ts';
import type { Nats } from '../nats.ts';
import { insertNotifications, pushNotifications, type NotificationEvent, type StoredNotification } from '../notifications.ts';
import { publishRoomFrame, type SubscriptionFrame } from '../room-frames.ts';
import type { SubscriptionTier } from '../schema.ts';
import { LIVE_STATUSES } from '../streams.ts';
import { defaultTierName, hasPerks } from './rules.ts';

// Telling people a subscription became active (README "Subscriptions"): the creator gets
// `subscription_received`, a gift's recipient `subscription_gifted`, and if the channel is live
// its room gets a `subscription` frame. Called by the subscription workflow's activity when a
// subscription first becomes active; an activity may run again, so each notification's event
// id derives from the subscription id and the frame goes out only with the first announcement.

/** The event ids of a subscription's two notifications: one each per subscription, ever. */
export const subscriptionEventIds = (subscriptionId: string) => ({
  received: `subscription_received:${subscriptionId}`,
  gifted: `subscription_gifted:${subscriptionId}`,
});

interface Announced {
  id: string;
  status: 'incomplete' | 'active' | 'past_due' | 'lapsed' | 'ended';
  tier: SubscriptionTier;
  tier_name: string | null;
  channel_id: string;
  channel_username: string;
  channel_display_name: string;
  subscriber_id: string;
  subscriber_username: string;
  subscriber_display_name: string;
  gift_id: string | null;
  giver_id: string | null;
  giver_username: string | null;
  gift_stream_id: string | null;
  months: number;
  announced: boolean;
}

/**
 * Announces a subscription once. Does nothing for a subscription without perks (it lapsed or
 * ended before the announcement ran: nobody should be told it started). Concurrent and repeated
 * calls are serialised on the subscription and settle on one notification per recipient and,
 * while the channel is live, one room frame. (Should both recipients have turned these
 * notifications off, nothing records the announcement and a repeated call repeats the frame.)
 */
export async function announceSubscription(deps: { db: Db; nats: Nats }, subscriptionId: string): Promise<void> {
  const ids = subscriptionEventIds(subscriptionId);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`subscription-announce:${subscriptionId}`}, 0))`.execute(tx);
    const { rows } = await sql<Announced>`
      select s.id, s.status, s.tier, tn.name as tier_name, s.channel_id, c.username as channel_username, c.display_name as channel_display_name,
        s.subscriber_id, u.username as subscriber_username, u.display_name as subscriber_display_name,
        s.gift_id, g.giver_id, gu.username as giver_username, g.stream_id as gift_stream_id,
        (select count(*)::int from subscription_periods p where p.subscriber_id = s.subscriber_id and p.channel_id = s.channel_id) as months,
        exists (select 1 from notifications n where n.event_id in (${ids.received}, ${ids.gifted})) as announced
      from subscriptions s
      join users c on c.id = s.channel_id
      join users u on u.id = s.subscriber_id
      left join subscription_tier_names tn on tn.channel_id = s.channel_id and tn.tier = s.tier
      left join subscription_gifts g on g.id = s.gift_id
      left join users gu on gu.id = g.giver_id
      where s.id = ${subscriptionId}::uuid`.execute(tx);
    const sub = rows[0];
    if (!sub || !hasPerks(sub.status) || sub.announced) return undefined;
    const subscriber = { id: sub.subscriber_id, username: sub.subscriber_username, displayName: sub.subscriber_display_name };
    const giver = sub.giver_id && sub.giver_username ? { id: sub.giver_id, username: sub.giver_username } : null;
    const gift = sub.gift_id ? { id: sub.gift_id, giver } : null;
    const tierName = sub.tier_name ?? defaultTierName(sub.tier);
    const notified: StoredNotification[] = [];
    const received: NotificationEvent = {
      id: ids.received,
      type: 'subscription_received',
      actorId: sub.subscriber_id,
      entityType: 'subscription',
      entityId: sub.id,
      payload: { subscriptionId: sub.id, subscriber, tier: sub.tier, tierName, months: sub.months, gift },
    };
    notified.push(...(await insertNotifications(tx, received, sql`select ${sub.channel_id}::uuid as recipient_id`)));
    if (sub.gift_id) {
      const gifted: NotificationEvent = {
        id: ids.gifted,
        type: 'subscription_gifted',
        actorId: sub.giver_id,
        entityType: 'subscription',
        entityId: sub.id,
        payload: {
          subscriptionId: sub.id,
          channel: { id: sub.channel_id, username: sub.channel_username, displayName: sub.channel_display_name },
          tier: sub.tier,
          tierName,
          giver,
        },
      };
      notified.push(...(await insertNotifications(tx, gifted, sql`select ${sub.subscriber_id}::uuid as recipient_id`)));
    }
    // The gift's room when it came from one, else the channel's live broadcast; none when it is off air.
    const { rows: live } = await sql<{ id: string }>`
      select id from streams
      where owner_id = ${sub.channel_id}::uuid and status in (${sql.join(LIVE_STATUSES.map((s) => sql.lit(s)))}) and moderation_ended_at is null
      order by (id = ${sub.gift_stream_id}::uuid) is true desc, started_at desc nulls last
      limit 1`.execute(tx);
    // Someone timed out or banned in the channel's chat is not announced in its room (the creator is told all the same).
    const restricted = live[0] ? await restrictionOf(tx, sub.channel_id, sub.subscriber_id) : undefined;
    const frame: SubscriptionFrame | undefined =
      live[0] && !restricted
        ? {
            type: 'subscription',
            streamId: live[0].id,
            subscriber: { id: sub.subscriber_id, username: sub.subscriber_username },
            tier: sub.tier,
            months: sub.months,
            gift: giver ? { giver } : null,
            sentAt: new Date().toISOString(),
          }
        : undefined;
    return { notified, frame };
  });
  if (!outcome) return;
  // After the commit: a client told about a row must find it.
  await pushNotifications(deps.nats, outcome.notified);
  if (outcome.frame) publishRoomFrame(deps.nats, outcome.frame);
}
