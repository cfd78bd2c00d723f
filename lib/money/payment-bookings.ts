import { sql } from 'kysely';
import type { Tx } from '../db.ts';
import { accountCode, COIN, userAccount, type AccountKind, type AccountRef } from '../ledger/chart.ts';
import { reversalLines, type Line } from '../ledger/rules.ts';
import { lockAccounts, postEntry } from '../ledger/store.ts';
import type { Logger } from '../logger.ts';
import type { DisputeStatus } from '../schema.ts';
import type { Payment } from './payments.ts';
import { bookedPaymentStatus, coinReversalLines, planReversal, tipReversalLines } from './reversals.ts';
import { coinPurchaseLines, splitTip, tipLines, type MoneyRules } from './rules.ts';
import { splitSubscription, subscriptionShareLines } from '../subscriptions/rules.ts';

// What the provider's news about a payment books, inside the caller's transaction (the one
// that also marks the event applied) and under the payment row's lock. Every entry's key
// derives from the payment and the provider's cumulative state, so a duplicate or late event
// finds its entry posted, or its state already passed, and books nothing.

export interface BookingDeps {
  rules: MoneyRules;
  /** What the provider charges for a dispute (minor units), withdrawn with the disputed amount. */
  disputeFee: bigint;
  /**
   * The creator's share of subscription money (config.subscriptions.creatorShareBps), basis
   * points of the amount less the provider's fee: what a paid gift of subscriptions books.
   */
  subscriptionShareBps: number;
  logger: Pick<Logger, 'error' | 'warn'>;
}

/** What the provider says it received, to hold against what the payment asked. */
export interface Received {
  amount?: bigint;
  currency?: string;
  paymentIntentId?: string | null;
  chargeId?: string | null;
}

export type SuccessOutcome = 'booked' | 'already_booked' | 'refused';

export const successKey = (paymentId: string) => `payment/${paymentId}/succeeded`;
export const refundKey = (paymentId: string, cumulative: bigint) => `payment/${paymentId}/refund/${cumulative}`;
export const disputeKey = (paymentId: string, disputeId: string) => `payment/${paymentId}/dispute/${disputeId}`;
export const disputeWonKey = (paymentId: string, disputeId: string) => `payment/${paymentId}/dispute/${disputeId}/won`;

function refsOf(payment: Payment): Record<string, string> {
  const refs: Record<string, string> = { paymentId: payment.id, payerId: payment.payerId };
  if (payment.creatorId) refs.creatorId = payment.creatorId;
  if (payment.streamId) refs.streamId = payment.streamId;
  if (payment.videoId) refs.videoId = payment.videoId;
  if (payment.coinPackId) refs.coinPackId = payment.coinPackId;
  return refs;
}

async function refuseBooking(trx: Tx, deps: BookingDeps, payment: Payment, reason: string): Promise<'refused'> {
  deps.logger.error({ paymentId: payment.id, reason }, 'payment received but not booked: an operator must refund it');
  await trx
    .updateTable('payments')
    .set({ status: 'failed', booking_refused: true, failure_reason: reason, updated_at: sql`now()` })
    .where('id', '=', payment.id)
    .execute();
  return 'refused';
}

/**
 * Books a paid payment once: a tip's split to the creator's pending earnings and the
 * platform, a gift of subscriptions' revenue share the same way (the creator's share of the
 * whole amount, as one entry), or a coin pack's coins into the wallet. Money that does not match what was asked
 * is refused (marked failed, logged, nothing posted). Called by the success event, and by a
 * refund or dispute that arrives before it.
 */
export async function bookSucceeded(trx: Tx, deps: BookingDeps, payment: Payment, received: Received): Promise<SuccessOutcome> {
  if (payment.succeededEntryId) return 'already_booked';
  if (payment.bookingRefused) return 'refused';
  if ((received.amount !== undefined && received.amount !== payment.amount) || (received.currency !== undefined && received.currency !== payment.currency)) {
    return refuseBooking(
      trx,
      deps,
      payment,
      `amount_mismatch: asked ${payment.amount} ${payment.currency}, received ${received.amount ?? '?'} ${received.currency ?? '?'}`,
    );
  }
  const { rules } = deps;
  if (payment.currency !== rules.currency) return refuseBooking(trx, deps, payment, `currency ${payment.currency} is not the settlement currency ${rules.currency}`);
  let lines: Line[];
  let share: bigint;
  let coinValue: bigint | null = null;
  if (payment.kind === 'tip') {
    lines = tipLines(payment.creatorId!, payment.amount, rules);
    share = splitTip(payment.amount, rules).creator;
  } else if (payment.kind === 'subscription_gift') {
    lines = subscriptionShareLines(payment.creatorId!, payment.amount, rules, deps.subscriptionShareBps);
    share = splitSubscription(payment.amount, rules, deps.subscriptionShareBps).creator;
  } else {
    try {
      lines = coinPurchaseLines(payment.payerId, payment.coins!, payment.amount, rules);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return refuseBooking(trx, deps, payment, `mispriced: ${err.message}`);
    }
    share = payment.coins!;
    coinValue = rules.coinCreatorValue;
  }
  const posted = await postEntry(trx, { idempotencyKey: successKey(payment.id), kind: payment.kind, refs: refsOf(payment), lines });
  await trx
    .updateTable('payments')
    .set({
      status: 'succeeded',
      failure_reason: null,
      succeeded_entry_id: posted.entryId,
      booked_share: share.toString(),
      booked_coin_value: coinValue === null ? null : coinValue.toString(),
      succeeded_at: sql`now()`,
      updated_at: sql`now()`,
      provider_payment_intent_id: sql`coalesce(provider_payment_intent_id, ${received.paymentIntentId ?? null})`,
      provider_charge_id: sql`coalesce(provider_charge_id, ${received.chargeId ?? null})`,
    })
    .where('id', '=', payment.id)
    .execute();
  // The caller's copy stays current for what it books next in this transaction (a refund that came first).
  Object.assign(payment, { succeededEntryId: posted.entryId, bookedShare: share, bookedCoinValue: coinValue, status: 'succeeded' });
  return 'booked';
}

/**
 * A failure the provider reports: a payment not paid yet is marked failed (the payer may try
 * again). The same failure reported again changes nothing.
 */
export async function markFailed(trx: Tx, payment: Payment, reason: string): Promise<boolean> {
  if (payment.status !== 'requires_payment' && payment.status !== 'failed') return false;
  if (payment.bookingRefused || (payment.status === 'failed' && payment.failureReason === reason)) return false;
  const updated = await trx
    .updateTable('payments')
    .set({ status: 'failed', failure_reason: reason, updated_at: sql`now()` })
    .where('id', '=', payment.id)
    .where('succeeded_entry_id', 'is', null)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

interface Reversal {
  entryId: string | null;
  covered: bigint;
  share: bigint;
}

/**
 * Takes `requested` minor units (and `fee`) back from a booked payment in proportion to what it
 * booked: for a tip or a gift of subscriptions (both book the creator's share as money to
 * pending earnings), the creator's share from pending first, then available (which may go
 * negative), under those accounts' locks; for coins, the coins still in the wallet. Records
 * what was reversed on the payment row.
 */
async function bookReversal(
  trx: Tx,
  payment: Payment,
  input: { requested: bigint; fee: bigint; idempotencyKey: string; kind: string; refs: Record<string, string> },
): Promise<Reversal> {
  if (input.requested + input.fee === 0n) return { entryId: null, covered: 0n, share: 0n };
  const state = { amount: payment.amount, share: payment.bookedShare!, reversedAmount: payment.reversedAmount, reversedShare: payment.reversedShare };
  let lines: Line[];
  let plan;
  if (payment.kind === 'tip' || payment.kind === 'subscription_gift') {
    plan = planReversal(state, input.requested, { shareIsMoney: true });
    const pending = userAccount('earnings_pending', payment.creatorId!, payment.currency);
    const available = userAccount('earnings_available', payment.creatorId!, payment.currency);
    const balances = await lockAccounts(trx, [pending, available]);
    lines = tipReversalLines({ creatorId: payment.creatorId!, currency: payment.currency, plan, fee: input.fee, pendingBalance: balances.get(accountCode(pending)) ?? 0n }).lines;
  } else {
    plan = planReversal(state, input.requested, { shareIsMoney: false });
    const wallet = userAccount('coin_wallet', payment.payerId, COIN);
    const balances = await lockAccounts(trx, [wallet]);
    lines = coinReversalLines({
      buyerId: payment.payerId,
      currency: payment.currency,
      plan,
      fee: input.fee,
      coinValue: payment.bookedCoinValue!,
      walletBalance: balances.get(accountCode(wallet)) ?? 0n,
    }).lines;
  }
  const posted = await postEntry(trx, { idempotencyKey: input.idempotencyKey, kind: input.kind, refs: input.refs, lines });
  await adjustReversed(trx, payment, plan.covered, plan.share);
  return { entryId: posted.entryId, covered: plan.covered, share: plan.share };
}

async function adjustReversed(trx: Tx, payment: Payment, amount: bigint, share: bigint): Promise<void> {
  await trx
    .updateTable('payments')
    .set({
      reversed_amount: sql`reversed_amount + ${amount.toString()}::bigint`,
      reversed_share: sql`reversed_share + ${share.toString()}::bigint`,
      updated_at: sql`now()`,
    })
    .where('id', '=', payment.id)
    .execute();
  payment.reversedAmount += amount;
  payment.reversedShare += share;
}

async function refreshStatus(trx: Tx, payment: Payment): Promise<void> {
  const disputes = await trx.selectFrom('payment_disputes').select('status').where('payment_id', '=', payment.id).execute();
  const status = bookedPaymentStatus({ amount: payment.amount, refundedAmount: payment.refundedAmount, disputeStatuses: disputes.map((d) => d.status) });
  await trx.updateTable('payments').set({ status, updated_at: sql`now()` }).where('id', '=', payment.id).execute();
  payment.status = status;
}

/**
 * The provider's cumulative refunded amount grew: books the difference since what was booked
 * (key `payment/<id>/refund/<cumulative>`). An older or repeated refund event books nothing.
 */
export async function bookRefund(trx: Tx, payment: Payment, cumulativeRefunded: bigint): Promise<bigint> {
  if (!payment.succeededEntryId || cumulativeRefunded <= payment.refundedAmount) return 0n;
  const delta = cumulativeRefunded - payment.refundedAmount;
  await bookReversal(trx, payment, {
    requested: delta,
    fee: 0n,
    idempotencyKey: refundKey(payment.id, cumulativeRefunded),
    kind: `${payment.kind}.refund`,
    refs: { ...refsOf(payment), refundedTotal: cumulativeRefunded.toString() },
  });
  await trx.updateTable('payments').set({ refunded_amount: cumulativeRefunded.toString() }).where('id', '=', payment.id).execute();
  payment.refundedAmount = cumulativeRefunded;
  await refreshStatus(trx, payment);
  return delta;
}

export interface DisputeNews {
  disputeId: string;
  amount: bigint;
  /** StreamHub's reading of the provider's status (lib/payments/stripe-objects.ts disputeOutcome). */
  outcome: DisputeStatus;
  reason: string | null;
}

interface DisputeRow {
  status: DisputeStatus;
  entry_id: string | null;
  covered_amount: string;
  covered_share: string;
}

const lockDispute = (trx: Tx, paymentId: string, disputeId: string) =>
  trx
    .selectFrom('payment_disputes')
    .select(['status', 'entry_id', sql<string>`covered_amount::text`.as('covered_amount'), sql<string>`covered_share::text`.as('covered_share')])
    .where('payment_id', '=', paymentId)
    .where('provider_dispute_id', '=', disputeId)
    .forUpdate()
    .executeTakeFirst() as Promise<DisputeRow | undefined>;

/**
 * A dispute opened: the provider withdrew the disputed amount and its fee. Books it like a
 * refund of that amount (money refunded already is not taken back twice: a loss) plus the fee
 * as a loss. An inquiry moves no money and books nothing; when it escalates to a chargeback
 * (news of a withdrawal about a dispute recorded as an inquiry), the withdrawal is booked then.
 * Once per dispute.
 */
export async function bookDisputeOpened(trx: Tx, deps: BookingDeps, payment: Payment, news: DisputeNews): Promise<DisputeRow> {
  const existing = await lockDispute(trx, payment.id, news.disputeId);
  const inquiry = news.outcome === 'inquiry' || news.outcome === 'inquiry_closed';
  const escalated = existing !== undefined && !inquiry && (existing.status === 'inquiry' || existing.status === 'inquiry_closed');
  if (existing && !escalated) return existing;
  const reversal = inquiry
    ? { entryId: null, covered: 0n, share: 0n }
    : await bookReversal(trx, payment, {
        requested: news.amount,
        fee: deps.disputeFee,
        idempotencyKey: disputeKey(payment.id, news.disputeId),
        kind: `${payment.kind}.dispute`,
        refs: { ...refsOf(payment), disputeId: news.disputeId },
      });
  const row: DisputeRow = { status: inquiry ? 'inquiry' : 'open', entry_id: reversal.entryId, covered_amount: reversal.covered.toString(), covered_share: reversal.share.toString() };
  const values = {
    status: row.status,
    amount: news.amount.toString(),
    fee: inquiry ? '0' : deps.disputeFee.toString(),
    covered_amount: row.covered_amount,
    covered_share: row.covered_share,
    entry_id: row.entry_id,
    reason: news.reason,
  };
  if (escalated) {
    await trx
      .updateTable('payment_disputes')
      .set({ ...values, closed_at: null })
      .where('payment_id', '=', payment.id)
      .where('provider_dispute_id', '=', news.disputeId)
      .execute();
  } else {
    await trx
      .insertInto('payment_disputes')
      .values({ payment_id: payment.id, provider_dispute_id: news.disputeId, ...values })
      .execute();
  }
  await refreshStatus(trx, payment);
  return row;
}

/**
 * A dispute closed. Won: the provider reinstated the money and the fee, so the dispute's
 * entry is reversed (a new entry that `reverses` it) and the payment's reversed totals go
 * back. Lost: what the dispute booked stands. A close that arrives before the open books the
 * open first, from the same data.
 */
export async function bookDisputeClosed(trx: Tx, deps: BookingDeps, payment: Payment, news: DisputeNews): Promise<void> {
  const row = await bookDisputeOpened(trx, deps, payment, { ...news, outcome: news.outcome === 'won' || news.outcome === 'lost' ? 'open' : 'inquiry' });
  if (row.status !== 'open' && row.status !== 'inquiry') return;
  const won = news.outcome === 'won';
  const closed: DisputeStatus = row.status === 'inquiry' ? 'inquiry_closed' : won ? 'won' : 'lost';
  let reversalEntryId: string | null = null;
  if (won && row.entry_id) {
    const posted = await postEntry(trx, {
      idempotencyKey: disputeWonKey(payment.id, news.disputeId),
      kind: `${payment.kind}.dispute_won`,
      reverses: row.entry_id,
      refs: { ...refsOf(payment), disputeId: news.disputeId },
      lines: reversalLines(await entryLines(trx, row.entry_id)),
    });
    reversalEntryId = posted.entryId;
    await adjustReversed(trx, payment, -BigInt(row.covered_amount), -BigInt(row.covered_share));
  }
  await trx
    .updateTable('payment_disputes')
    .set({ status: closed, reversal_entry_id: reversalEntryId, closed_at: sql`now()` })
    .where('payment_id', '=', payment.id)
    .where('provider_dispute_id', '=', news.disputeId)
    .execute();
  await refreshStatus(trx, payment);
}

/** An entry's postings as lines, to reverse it. */
async function entryLines(trx: Tx, entryId: string): Promise<Line[]> {
  const rows = await trx
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
    .select(['a.kind', 'a.owner_id', 'a.currency', 'p.side', sql<string>`p.amount::text`.as('amount')])
    .where('p.entry_id', '=', entryId)
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({
    account: { kind: r.kind as AccountKind, owner: r.owner_id ?? 'platform', currency: r.currency } as AccountRef,
    side: r.side,
    amount: BigInt(r.amount),
  }));
}
