import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Tx } from '../lib/db.ts';
import { toJsonAmount } from '../lib/ledger/rules.ts';
import { restrictionOf } from '../lib/moderation/channel-store.ts';
import { bookDisputeClosed, bookDisputeOpened, bookRefund, bookSucceeded, markFailed, type BookingDeps, type Received } from '../lib/money/payment-bookings.ts';
import { lockPaymentForEvent, lockProviderIds, type Payment } from '../lib/money/payments.ts';
import type { NotificationEvent } from '../lib/notifications.ts';
import type { KnownStripeEventType } from '../lib/payments/stripe-events.ts';
import {
  disputeOutcome,
  MalformedStripeObjectError,
  paymentFailureReason,
  readCharge,
  readDispute,
  readPaymentIntent,
} from '../lib/payments/stripe-objects.ts';
import { publishRoomFrame, type DonationFrame } from '../lib/room-frames.ts';
import { LIVE_STATUSES } from '../lib/streams.ts';
import { startGiftDistribution, type GiftDistributionSettings } from '../lib/subscriptions/gift-start.ts';
import { pushNotifications } from '../lib/notifications.ts';
import { insertNotifications, mailNotificationEvent } from '../lib/notifications.ts';
import { registerStripeEventHandler, type PaymentEvent, type PaymentEventContext, type PaymentEventHandler, type ProviderIds } from './payments.ts';

// What StreamHub does with each Stripe event it acts on: find our payment (by the id we put in
// the metadata, else by the provider's ids we stored), then book through lib/money in the
// event's own transaction. Tips and coin packs share one handler per type. An event that
// arrives before the one it follows (a refund before its payment's success) books the success
// first from its own data, with the key the success would have used: so any order of
// delivery ends in the same books, and a duplicate books nothing. A refund or dispute whose
// payment we cannot find yet (its charge is not known before the success names it) is parked
// and applied by the event that makes the payment known.

export interface PaymentEventHandlerDeps extends BookingDeps {
  /** What a paid gift of subscriptions hands its `subscription-gift/<giftId>` workflow. */
  gifts: GiftDistributionSettings;
}

/** A Stripe object that does not parse will not parse on a retry either. */
function read<T>(parse: (object: unknown) => T, event: PaymentEvent): T {
  try {
    return parse(event.object);
  } catch (err) {
    if (err instanceof MalformedStripeObjectError) throw ApplicationFailure.nonRetryable(`${event.type} ${event.id}: ${err.message}`, 'PaymentEventMalformed');
    throw err;
  }
}

export function createPaymentEventHandlers(deps: PaymentEventHandlerDeps): Map<KnownStripeEventType, PaymentEventHandler> {
  const { logger } = deps;

  /**
   * The payment an event is about, locked. Taken after the provider ids' lock (lockProviderIds),
   * so an event that parks for want of its payment and one that makes the payment known
   * never miss each other.
   */
  async function paymentOf(ctx: PaymentEventContext, event: PaymentEvent, ids: ProviderIds): Promise<Payment | undefined> {
    await lockProviderIds(ctx.trx, ids);
    const lookup = await lockPaymentForEvent(ctx.trx, { paymentId: event.metadata.paymentId, ...ids });
    if ('found' in lookup) return lookup.found;
    if ('ambiguous' in lookup) logger.error({ eventId: event.id, type: event.type, ...ids }, 'payment event matches several payments by provider id; nothing booked');
    else logger.warn({ eventId: event.id, type: event.type, ...ids }, 'payment event about no payment of ours; ignored');
    return undefined;
  }

  /**
   * A charge's refund or dispute can arrive before the success that tells us its charge: it
   * waits (parked) for those ids instead of being dropped. One that names our payment in its
   * metadata but matches nothing is not ours to wait for.
   */
  async function paymentOrWait(ctx: PaymentEventContext, event: PaymentEvent, ids: ProviderIds): Promise<Payment | { waitFor: ProviderIds }> {
    await lockProviderIds(ctx.trx, ids);
    const lookup = await lockPaymentForEvent(ctx.trx, { paymentId: event.metadata.paymentId, ...ids });
    if ('found' in lookup) return lookup.found;
    logger.warn(
      { eventId: event.id, type: event.type, ...ids, ...('ambiguous' in lookup ? { ambiguous: lookup.ambiguous } : {}) },
      'payment event about a payment not known yet; parked until an event makes it known',
    );
    return { waitFor: ids };
  }

  /** The events parked for the payment's provider ids (stored now, or before), applied in this transaction. */
  async function applyWaitingFor(ctx: PaymentEventContext, payment: Payment): Promise<void> {
    const ids = await ctx.trx.selectFrom('payments').select(['provider_charge_id', 'provider_payment_intent_id']).where('id', '=', payment.id).executeTakeFirstOrThrow();
    await ctx.applyWaiting({ chargeId: ids.provider_charge_id, paymentIntentId: ids.provider_payment_intent_id });
  }

  /** The success booked (now, or earlier); false when the payment's money was refused. */
  async function ensureBooked(ctx: PaymentEventContext, payment: Payment, received: Received): Promise<boolean> {
    const outcome = await bookSucceeded(ctx.trx, deps, payment, received);
    if (outcome === 'booked' && payment.kind === 'subscription_gift') await giftPaid(ctx, payment);
    return outcome !== 'refused';
  }

  /**
   * A gift of subscriptions just booked: marked paid in the booking's transaction, and its
   * `subscription-gift/<giftId>` workflow started before the commit (a retry of the event
   * starts it again by id), so a crash cannot lose the distribution; the workflow's activity
   * waits until this transaction has committed before it gives anything.
   */
  async function giftPaid(ctx: PaymentEventContext, payment: Payment): Promise<void> {
    const gift = await ctx.trx
      .updateTable('subscription_gifts')
      .set({ status: sql`case when status = 'pending' then 'paid' else status end`, updated_at: sql`now()` })
      .where('payment_id', '=', payment.id)
      .returning(['id', 'channel_id'])
      .executeTakeFirst();
    if (!gift) {
      logger.error({ paymentId: payment.id }, 'subscription gift payment booked but no gift row names it; an operator must refund it');
      return;
    }
    await startGiftDistribution(
      ctx.temporal,
      { giftId: gift.id, graceSeconds: deps.gifts.graceSeconds, ...(deps.gifts.giftPeriodSeconds === undefined ? {} : { giftPeriodSeconds: deps.gifts.giftPeriodSeconds }) },
      gift.channel_id,
    );
  }

  const succeeded: PaymentEventHandler = async (ctx, event) => {
    const intent = read(readPaymentIntent, event);
    const payment = await paymentOf(ctx, event, { chargeId: intent.latest_charge, paymentIntentId: intent.id });
    if (!payment) return;
    if (payment.providerPaymentIntentId && payment.providerPaymentIntentId !== intent.id) {
      logger.warn({ paymentId: payment.id, stored: payment.providerPaymentIntentId, paid: intent.id }, 'payment paid through another PaymentIntent than the one stored');
    }
    const outcome = await bookSucceeded(ctx.trx, deps, payment, {
      amount: intent.amount,
      currency: intent.currency,
      paymentIntentId: intent.id,
      chargeId: intent.latest_charge,
    });
    if (outcome === 'booked' && payment.kind === 'tip') await announceTip(ctx, payment);
    if (outcome === 'booked' && payment.kind === 'subscription_gift') await giftPaid(ctx, payment);
    await applyWaitingFor(ctx, payment);
  };

  const failed: PaymentEventHandler = async (ctx, event) => {
    const intent = read(readPaymentIntent, event);
    const payment = await paymentOf(ctx, event, { paymentIntentId: intent.id });
    if (payment) await markFailed(ctx.trx, payment, paymentFailureReason(intent));
  };

  const refunded: PaymentEventHandler = async (ctx, event) => {
    const charge = read(readCharge, event);
    const payment = await paymentOrWait(ctx, event, { chargeId: charge.id, paymentIntentId: charge.payment_intent });
    if ('waitFor' in payment) return payment;
    const received = { amount: charge.amount, currency: charge.currency, paymentIntentId: charge.payment_intent, chargeId: charge.id };
    if (await ensureBooked(ctx, payment, received)) await bookRefund(ctx.trx, payment, charge.amount_refunded);
    await applyWaitingFor(ctx, payment);
  };

  /**
   * `opened`: the event withdraws the disputed money unless the dispute is an inquiry
   * (charge.dispute.created); `withdrawn`: it does, whatever the status (funds_withdrawn, also
   * when an inquiry escalated to a chargeback); `closed`: the dispute's end.
   */
  const disputeHandler =
    (news: 'opened' | 'withdrawn' | 'closed'): PaymentEventHandler =>
    async (ctx, event) => {
      const dispute = read(readDispute, event);
      const payment = await paymentOrWait(ctx, event, { chargeId: dispute.charge, paymentIntentId: dispute.payment_intent });
      if ('waitFor' in payment) return payment;
      // A dispute says the charge was paid, not how much: the success books our own amount.
      if (await ensureBooked(ctx, payment, { paymentIntentId: dispute.payment_intent, chargeId: dispute.charge })) {
        const outcome = disputeOutcome(dispute.status);
        const base = { disputeId: dispute.id, amount: dispute.amount, reason: dispute.reason ?? null };
        if (news === 'closed') await bookDisputeClosed(ctx.trx, deps, payment, { ...base, outcome });
        // A created event is an opening, whatever the dispute's status has become since.
        else if (news === 'opened') await bookDisputeOpened(ctx.trx, deps, payment, { ...base, outcome: outcome === 'inquiry' || outcome === 'inquiry_closed' ? 'inquiry' : 'open' });
        else await bookDisputeOpened(ctx.trx, deps, payment, { ...base, outcome: 'open' });
      }
      await applyWaitingFor(ctx, payment);
    };

  return new Map<KnownStripeEventType, PaymentEventHandler>([
    ['payment_intent.succeeded', succeeded],
    ['payment_intent.payment_failed', failed],
    ['charge.refunded', refunded],
    ['charge.dispute.created', disputeHandler('opened')],
    ['charge.dispute.funds_withdrawn', disputeHandler('withdrawn')],
    ['charge.dispute.closed', disputeHandler('closed')],
  ]);
}

/** Puts the money handlers in activities/payments.ts's registry (the worker entrypoint does, once). */
export function registerPaymentEventHandlers(deps: PaymentEventHandlerDeps): void {
  for (const [type, handler] of createPaymentEventHandlers(deps)) registerStripeEventHandler(type, handler);
}

/**
 * A tip just booked: its creator is notified in the same transaction (once, whatever the
 * retries), and after the commit the notification is pushed and, on a live stream whose chat
 * has not timed out or banned the payer, the room gets a `donation` frame (at most once: both can be read again over HTTP).
 */
async function announceTip(ctx: PaymentEventContext, payment: Payment): Promise<void> {
  const { rows } = await sql<{ username: string; display_name: string; stream_status: string | null }>`
    select u.username, u.display_name, s.status as stream_status
    from users u left join streams s on s.id = ${payment.streamId}
    where u.id = ${payment.payerId}`.execute(ctx.trx);
  const payer = rows[0];
  if (!payer) return;
  const donor = payment.anonymous ? null : { id: payment.payerId, username: payer.username };
  const name = payment.anonymous ? 'anonymous' : payer.display_name || payer.username;
  const amount = toJsonAmount(payment.amount);
  const notified = await notifyCreator(ctx.trx, payment, {
    paymentId: payment.id,
    amount,
    currency: payment.currency,
    message: payment.message,
    name,
    donor,
    streamId: payment.streamId,
    videoId: payment.videoId,
  });
  ctx.afterCommit(() => pushNotifications(ctx.nats, notified));
  // Started before the commit, not after it: a Temporal that cannot take the start fails this
  // transaction, which the event's workflow retries, so no booked tip goes unmailed. The mail
  // waits for the commit.
  if (notified.length) await mailNotificationEvent(ctx.temporal, tipEventId(payment.id), { awaitNotifications: true });
  // A payer timed out or banned from the channel's chat since starting the tip is not announced
  // in its room (the money is booked and the creator told all the same).
  const restricted = payment.streamId && payment.creatorId ? await restrictionOf(ctx.trx, payment.creatorId, payment.payerId) : undefined;
  if (payment.streamId && !restricted && payer.stream_status && (LIVE_STATUSES as string[]).includes(payer.stream_status)) {
    const frame: DonationFrame = {
      type: 'donation',
      streamId: payment.streamId,
      id: payment.id,
      amount,
      currency: payment.currency,
      message: payment.message,
      name,
      donor,
      sentAt: new Date().toISOString(),
    };
    ctx.afterCommit(async () => void publishRoomFrame(ctx.nats, frame));
  }
}

const tipEventId = (paymentId: string) => `tip_received:${paymentId}`;

function notifyCreator(trx: Tx, payment: Payment, payload: Record<string, unknown>) {
  const event: NotificationEvent = {
    id: tipEventId(payment.id),
    type: 'tip_received',
    actorId: payment.anonymous ? null : payment.payerId,
    entityType: payment.streamId ? 'stream' : 'video',
    entityId: (payment.streamId ?? payment.videoId)!,
    payload,
  };
  return insertNotifications(trx, event, sql`select ${payment.creatorId}::uuid as recipient_id`);
}
