import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import { restrictedFromRoom } from '../../lib/moderation/channel.ts';
import { restrictionOf } from '../../lib/moderation/channel-store.ts';
import { findPayment, type Payment } from '../../lib/money/payments.ts';
import type { SubscriptionTier } from '../../lib/schema.ts';
import { LIVE_STATUSES } from '../../lib/streams.ts';
import { countEligibleViewers } from '../../lib/subscriptions/gifts.ts';
import { tierPrice, type SubscriptionRules } from '../../lib/subscriptions/rules.ts';
import type { AuthContext } from '../context.ts';
import { fingerprint, replayOf } from '../payments/service.ts';

// Buying gift subscriptions (README "Gift subscriptions"): like a tip, a `payments` row (kind
// `subscription_gift`) claims the giver's Idempotency-Key and the PaymentIntent is asked for
// under the payment's own key; the gift's row is written in the same transaction, so a
// payment always has its gift. What the gift gives is decided once Stripe reports the payment
// (activities/payment-handlers.ts, then the `subscription-gift/<id>` workflow).

export interface GiftRequest {
  giver: AuthContext;
  idempotencyKey: string;
  channelId: string;
  tier: SubscriptionTier;
  quantity: number;
  streamId: string | null;
}

export interface StartedGift {
  giftId: string;
  payment: Payment;
  /** False when the key had been used before for the same request: nothing new was made. */
  created: boolean;
}

const giftOfPayment = async (db: Db, paymentId: string): Promise<string> =>
  (await db.selectFrom('subscription_gifts').select('id').where('payment_id', '=', paymentId).executeTakeFirstOrThrow()).id;

/** The checks a new gift passes: a channel that can be subscribed to, a giver its chat allows, and a room with enough people. */
async function checkGift(db: Db, request: GiftRequest): Promise<void> {
  const { giver, channelId } = request;
  const channel = await db.selectFrom('users').select(['status', 'deleted_at']).where('id', '=', channelId).executeTakeFirst();
  if (!channel || channel.deleted_at) throw new AppError('not_found', 'No such channel');
  if (channelId === giver.userId) throw new AppError('unprocessable', 'You cannot gift subscriptions to your own channel');
  if (channel.status === 'banned') throw new AppError('conflict', 'This channel cannot receive subscriptions');
  // Gifts are announced in the channel's rooms and to their recipients, with the giver's name.
  const restriction = await restrictionOf(db, channelId, giver.userId);
  if (restriction) throw restrictedFromRoom(restriction, 'gift subscriptions');
  if (request.streamId) {
    const stream = await db.selectFrom('streams').select(['owner_id', 'status']).where('id', '=', request.streamId).executeTakeFirst();
    if (!stream || stream.status === 'cancelled' || stream.owner_id !== channelId) {
      throw new AppError('not_found', 'No such stream of this channel', [{ field: 'streamId', message: 'unknown or cancelled stream, or another channel’s' }]);
    }
    if ((LIVE_STATUSES as string[]).includes(stream.status)) {
      const eligible = await countEligibleViewers(db, { channelId, giverId: giver.userId, streamId: request.streamId });
      if (eligible < request.quantity) {
        throw new AppError('unprocessable', `Only ${eligible} viewers in this room can receive a gifted subscription; gift at most that many`, {
          eligible,
          quantity: request.quantity,
        });
      }
    }
  }
}

export async function startSubscriptionGift(db: Db, rules: Pick<SubscriptionRules, 'tierPrices'>, currency: string, request: GiftRequest): Promise<StartedGift> {
  const digest = fingerprint('subscription_gift', [request.channelId, request.tier, request.quantity, request.streamId]);
  const replay = async (): Promise<StartedGift | undefined> => {
    const earlier = await replayOf(db, request.giver.userId, request.idempotencyKey, digest);
    return earlier && { giftId: await giftOfPayment(db, earlier.id), payment: earlier, created: false };
  };
  const earlier = await replay();
  if (earlier) return earlier;
  await checkGift(db, request);
  const amount = tierPrice(rules, request.tier) * BigInt(request.quantity);
  const paymentId = randomUUID();
  const giftId = randomUUID();
  const created = await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('payments')
      .values({
        id: paymentId,
        kind: 'subscription_gift',
        payer_id: request.giver.userId,
        creator_id: request.channelId,
        stream_id: request.streamId,
        amount: amount.toString(),
        currency,
        idempotency_key: request.idempotencyKey,
        request_fingerprint: digest,
      })
      .onConflict((oc) => oc.columns(['payer_id', 'idempotency_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return false;
    await trx
      .insertInto('subscription_gifts')
      .values({
        id: giftId,
        giver_id: request.giver.userId,
        channel_id: request.channelId,
        stream_id: request.streamId,
        tier: request.tier,
        quantity: request.quantity,
        payment_id: paymentId,
      })
      .execute();
    return true;
  });
  if (created) return { giftId, payment: (await findPayment(db, paymentId))!, created: true };
  // A concurrent request under the same key got there first: its gift, or a refusal of another body.
  const concurrent = await replay();
  if (!concurrent) throw new Error(`payment of key ${request.idempotencyKey} vanished after its key was taken`);
  return concurrent;
}

/** A gift as its giver (or an admin) sees it, with its recipients once distributed; 404 for anyone else. */
export async function findOwnGift(db: Db, id: string, auth: AuthContext) {
  const row = await db
    .selectFrom('subscription_gifts as g')
    .innerJoin('payments as p', 'p.id', 'g.payment_id')
    .innerJoin('users as c', 'c.id', 'g.channel_id')
    .innerJoin('users as u', 'u.id', 'g.giver_id')
    .select([
      'g.id',
      'g.stream_id',
      'g.tier',
      'g.quantity',
      'g.status',
      'g.distributed_count',
      'g.created_at',
      'g.updated_at',
      'g.giver_id',
      'p.id as payment_id',
      'p.status as payment_status',
      sql<string>`p.amount::text`.as('amount'),
      'p.currency',
      'c.id as c_id',
      'c.username as c_username',
      'c.display_name as c_display_name',
      'u.id as u_id',
      'u.username as u_username',
      'u.display_name as u_display_name',
    ])
    .where('g.id', '=', id)
    .executeTakeFirst();
  if (!row || (row.giver_id !== auth.userId && auth.role !== 'admin')) throw new AppError('not_found', 'No such gift');
  const recipients = await db
    .selectFrom('subscriptions as s')
    .innerJoin('users as r', 'r.id', 's.subscriber_id')
    .select(['s.id', 's.status', 'r.id as r_id', 'r.username as r_username', 'r.display_name as r_display_name'])
    .where('s.gift_id', '=', id)
    .orderBy('s.created_at')
    .orderBy('s.id')
    .execute();
  return {
    ...giftView(row),
    channel: { id: row.c_id, username: row.c_username, displayName: row.c_display_name },
    giver: { id: row.u_id, username: row.u_username, displayName: row.u_display_name },
    streamId: row.stream_id,
    distributedCount: row.distributed_count,
    payment: { id: row.payment_id, status: row.payment_status },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    recipients: recipients.map((r) => ({ user: { id: r.r_id, username: r.r_username, displayName: r.r_display_name }, subscriptionId: r.id, status: r.status })),
  };
}

/** The fields every answer about a gift has. */
export function giftView(gift: { id: string; tier: SubscriptionTier; quantity: number; amount: string | bigint; currency: string; status: string }) {
  return { id: gift.id, tier: gift.tier, quantity: gift.quantity, amount: toJsonAmount(BigInt(gift.amount)), currency: gift.currency, status: gift.status };
}

export async function findGiftSummary(db: Db, giftId: string, payment: Payment) {
  const gift = await db.selectFrom('subscription_gifts').select(['id', 'tier', 'quantity', 'status']).where('id', '=', giftId).executeTakeFirstOrThrow();
  return giftView({ ...gift, amount: payment.amount, currency: payment.currency });
}
