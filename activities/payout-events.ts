import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql } from 'kysely';
import { pushNotifications } from '../lib/notifications.ts';
import { flagReturnedStripePayout, markReversing, settleItem } from '../lib/payouts/store.ts';
import { settlementChangedSignal } from '../workflows/payout-run.ts';
import { workflowIds } from '../workflows/ids.ts';
import { registerStripeEventHandler, type PaymentEvent, type PaymentEventContext, type PaymentEventHandler } from './payments.ts';

// Stripe's answers about payouts, applied in the event's own transaction (activities/payments.ts):
// `account.updated` keeps a creator's Connect method verified or not; `payout.paid` and
// `payout.failed` settle the item their metadata names when the event's payout and connected
// account are the ones stored on it, then nudge the run's workflow.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Wakes the run so it sees the settlement now rather than at its next poll (at most once; the poll covers a lost nudge). */
async function nudgeRun(runId: string): Promise<void> {
  await Context.current().client.workflow.getHandle(workflowIds.payoutRun(runId)).signal(settlementChangedSignal);
}

export const accountUpdated: PaymentEventHandler = async ({ trx }, event) => {
  const accountId = typeof event.object.id === 'string' ? event.object.id : undefined;
  const userId = event.metadata.userId;
  // stripe-mock's (and a shared test account's) ids are not unique: our user id must match too.
  if (!accountId || !userId || !UUID.test(userId)) return;
  const status = event.object.payouts_enabled === true ? 'verified' : event.object.details_submitted === true ? 'disabled' : 'pending';
  await trx
    .updateTable('payout_methods')
    .set({ status, updated_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('kind', '=', 'stripe')
    .where('stripe_account_id', '=', accountId)
    .execute();
};

/**
 * The item a payout event is about, or nothing. The metadata names it (stripe-mock's and a
 * shared test account's payout ids are not unique); the event's payout id and connected account
 * (`event.account`) must then be the ones the run stored when it paid that item. An event that
 * names a sent item but disagrees is never applied: it is kept for finance (payout_event_mismatches)
 * and logged. Before our own record says the payout was sent, the answer waits: the event is retried.
 */
async function payoutItemOf({ trx, afterCommit }: PaymentEventContext, event: PaymentEvent): Promise<{ itemId: string; runId: string } | undefined> {
  const { payoutId, runId } = event.metadata;
  if (!payoutId || !runId || !UUID.test(payoutId) || !UUID.test(runId)) return undefined;
  const item = await trx.selectFrom('payout_items').select(['run_id', 'status', 'method', 'stripe_payout_id', 'stripe_account_id']).where('id', '=', payoutId).executeTakeFirst();
  if (!item) return undefined;
  if (item.status === 'reserved' && item.method === 'stripe' && !item.stripe_payout_id) {
    throw ApplicationFailure.retryable(`Payout ${payoutId} is not recorded as sent yet`, 'PayoutNotYetSubmitted');
  }
  const eventPayoutId = typeof event.object.id === 'string' ? event.object.id : null;
  const eventAccountId = typeof event.payload.account === 'string' ? event.payload.account : null;
  const reason =
    item.run_id !== runId
      ? 'the event names another run than the item belongs to'
      : item.method !== 'stripe'
        ? 'the item is paid by bank transfer, not by Stripe'
        : !item.stripe_payout_id || eventPayoutId !== item.stripe_payout_id
          ? 'the event is about another Stripe payout than the one this item was paid with'
          : !item.stripe_account_id || eventAccountId !== item.stripe_account_id
            ? 'the event comes from another connected account than the one this item was paid to'
            : undefined;
  if (!reason) return { itemId: payoutId, runId };
  await trx
    .insertInto('payout_event_mismatches')
    .values({
      provider: 'stripe',
      event_id: event.id,
      event_type: event.type,
      item_id: payoutId,
      run_id: runId,
      event_payout_id: eventPayoutId,
      event_account_id: eventAccountId,
      stored_payout_id: item.stripe_payout_id,
      stored_account_id: item.stripe_account_id,
      reason,
    })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .execute();
  afterCommit(async () => Context.current().log.warn('payout event refused: it does not match the payout the run stored', { eventId: event.id, type: event.type, itemId: payoutId, reason }));
  return undefined;
}

export const payoutPaid: PaymentEventHandler = async (ctx, event) => {
  const { trx, nats, afterCommit } = ctx;
  const ref = await payoutItemOf(ctx, event);
  if (!ref) return;
  const { result, notification } = await settleItem(trx, { itemId: ref.itemId, outcome: 'paid', settledBy: `stripe:${event.id}`, from: ['submitted'] });
  if (notification) afterCommit(() => pushNotifications(nats, [notification]));
  if (result === 'settled') afterCommit(() => nudgeRun(ref.runId));
};

export const payoutFailed: PaymentEventHandler = async (ctx, event) => {
  const { trx, afterCommit } = ctx;
  const ref = await payoutItemOf(ctx, event);
  if (!ref) return;
  const code = typeof event.object.failure_code === 'string' ? event.object.failure_code : null;
  const message = typeof event.object.failure_message === 'string' ? event.object.failure_message : null;
  const reason = [code, message].filter(Boolean).join(': ') || 'The bank refused the payout';
  // The money sits in the creator's Stripe balance: the run takes the transfer back before returning it.
  if (await markReversing(trx, ref.itemId, reason)) afterCommit(() => nudgeRun(ref.runId));
  // Failed after it was paid: a return, for finance to recover from the connected account first.
  else await flagReturnedStripePayout(trx, ref.itemId, reason);
};

export function registerPayoutEventHandlers(): void {
  registerStripeEventHandler('account.updated', accountUpdated);
  registerStripeEventHandler('payout.paid', payoutPaid);
  registerStripeEventHandler('payout.failed', payoutFailed);
}
