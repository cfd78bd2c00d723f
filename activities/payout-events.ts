import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql } from 'kysely';
import { pushNotifications } from '../lib/notifications.ts';
import { markReversing, settleItem } from '../lib/payouts/store.ts';
import { settlementChangedSignal } from '../workflows/payout-run.ts';
import { workflowIds } from '../workflows/ids.ts';
import { registerStripeEventHandler, type PaymentEventHandler } from './payments.ts';

// Stripe's answers about payouts, applied in the event's own transaction (activities/payments.ts):
// `account.updated` keeps a creator's Connect method verified or not; `payout.paid` and
// `payout.failed` settle the item their metadata names, then nudge the run's workflow.

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

function payoutItemOf(event: { metadata: Record<string, string> }): { itemId: string; runId: string } | undefined {
  const { payoutId, runId } = event.metadata;
  return payoutId && runId && UUID.test(payoutId) && UUID.test(runId) ? { itemId: payoutId, runId } : undefined;
}

/** Before our own record says the payout was sent, an answer about it waits: the event is retried. */
async function requireSent(trx: Parameters<PaymentEventHandler>[0]['trx'], itemId: string): Promise<boolean> {
  const item = await trx.selectFrom('payout_items').select('status').where('id', '=', itemId).executeTakeFirst();
  if (!item) return false;
  if (item.status === 'reserved') throw ApplicationFailure.retryable(`Payout ${itemId} is not recorded as sent yet`, 'PayoutNotYetSubmitted');
  return true;
}

export const payoutPaid: PaymentEventHandler = async ({ trx, nats, afterCommit }, event) => {
  const ref = payoutItemOf(event);
  if (!ref || !(await requireSent(trx, ref.itemId))) return;
  const { result, notification } = await settleItem(trx, { itemId: ref.itemId, outcome: 'paid', settledBy: `stripe:${event.id}`, from: ['submitted'] });
  if (notification) afterCommit(() => pushNotifications(nats, [notification]));
  if (result === 'settled') afterCommit(() => nudgeRun(ref.runId));
};

export const payoutFailed: PaymentEventHandler = async ({ trx, afterCommit }, event) => {
  const ref = payoutItemOf(event);
  if (!ref || !(await requireSent(trx, ref.itemId))) return;
  const code = typeof event.object.failure_code === 'string' ? event.object.failure_code : null;
  const message = typeof event.object.failure_message === 'string' ? event.object.failure_message : null;
  const reason = [code, message].filter(Boolean).join(': ') || 'The bank refused the payout';
  // The money sits in the creator's Stripe balance: the run takes the transfer back before returning it.
  if (await markReversing(trx, ref.itemId, reason)) afterCommit(() => nudgeRun(ref.runId));
};

export function registerPayoutEventHandlers(): void {
  registerStripeEventHandler('account.updated', accountUpdated);
  registerStripeEventHandler('payout.paid', payoutPaid);
  registerStripeEventHandler('payout.failed', payoutFailed);
}
