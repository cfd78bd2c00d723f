import { randomUUID } from 'node:crypto';
import type { Db } from '../../lib/db.ts';
import type { SubscriptionEndedReason, SubscriptionStatus, SubscriptionTier } from '../../lib/schema.ts';
import { calendarMonthUtc } from '../../lib/subscriptions/stats.ts';

const DAY_MS = 86_400_000;

export interface SubscriptionFields {
  subscriberId: string;
  channelId: string;
  tier?: SubscriptionTier;
  status?: SubscriptionStatus;
  /** Paid periods to insert (31 days apart, so only the last can fall in this calendar month; it began a minute ago, or at the month's start). */
  periods?: number;
  /** A gift from this user: a `subscription_gifts` row, no renewal. */
  giverId?: string;
  endedReason?: SubscriptionEndedReason;
  /** When it ended (lapsed/ended), default now. */
  endedAt?: Date;
  createdAt?: Date;
}

/**
 * A subscription row and its paid periods, straight into the tables, the way the
 * `subscription/<id>` workflow leaves them: for tests of what reads subscriptions (perks,
 * badges, stats), not of the lifecycle.
 */
export async function insertSubscription(db: Db, fields: SubscriptionFields): Promise<string> {
  const id = randomUUID();
  const tier = fields.tier ?? 1;
  const status = fields.status ?? 'active';
  const periods = fields.periods ?? (status === 'incomplete' ? 0 : 1);
  const now = Date.now();
  const ended = status === 'lapsed' || status === 'ended';
  let giftId: string | null = null;
  if (fields.giverId) {
    giftId = randomUUID();
    await db
      .insertInto('subscription_gifts')
      .values({ id: giftId, giver_id: fields.giverId, channel_id: fields.channelId, tier, quantity: 1, status: 'distributed', distributed_count: 1 })
      .execute();
  }
  const lastStart = new Date(Math.max(now - 60_000, calendarMonthUtc(new Date(now)).start.getTime()));
  await db
    .insertInto('subscriptions')
    .values({
      id,
      subscriber_id: fields.subscriberId,
      channel_id: fields.channelId,
      tier,
      price: '499',
      currency: 'USD',
      status,
      renews: giftId === null,
      gift_id: giftId,
      current_period_start: periods ? lastStart : null,
      current_period_end: periods ? new Date(lastStart.getTime() + 30 * DAY_MS) : null,
      past_due_since: status === 'past_due' ? new Date(now) : null,
      ended_at: ended ? (fields.endedAt ?? new Date(now)) : null,
      ended_reason: ended ? (fields.endedReason ?? (status === 'lapsed' ? 'lapsed' : 'canceled')) : null,
      ...(fields.createdAt ? { created_at: fields.createdAt } : {}),
    })
    .execute();
  for (let k = 0; k < periods; k++) {
    const start = new Date(lastStart.getTime() - (periods - 1 - k) * 31 * DAY_MS);
    await db
      .insertInto('subscription_periods')
      .values({
        subscription_id: id,
        subscriber_id: fields.subscriberId,
        channel_id: fields.channelId,
        tier,
        provider_invoice_id: giftId && k === 0 ? `gift:${id}` : `in_test_${randomUUID()}`,
        amount: '499',
        currency: 'USD',
        period_start: start,
        period_end: new Date(start.getTime() + 30 * DAY_MS),
        paid_at: start,
      })
      .execute();
  }
  return id;
}

/** Ends a subscription's perks the way the workflow does when a renewal stays unpaid past grace. */
export async function lapseSubscription(db: Db, id: string): Promise<void> {
  await db.updateTable('subscriptions').set({ status: 'lapsed', ended_at: new Date(), ended_reason: 'lapsed', updated_at: new Date() }).where('id', '=', id).execute();
}
