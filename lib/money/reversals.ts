import { COIN, platformAccount, userAccount } from '../ledger/chart.ts';
import { credit, debit, type Line } from '../ledger/rules.ts';
import type { PaymentStatus } from '../schema.ts';

// How refunds and disputes take back what a paid tip or coin pack booked: pure functions from
// the payment's state to ledger lines. Every reversal takes back a share in proportion to the
// money reversed, counted on the cumulative total (share × reversed ÷ amount, rounded down), so
// however a payment is refunded in parts, the parts add up to exactly what was booked once all
// of it is reversed. Money already reversed (a refund and then a dispute of the same money) is
// not taken back twice: the provider withdrew it twice, and the second time is a loss.

export interface ReversalState {
  /** The payment's amount, minor units. */
  amount: bigint;
  /** What the success booked that reversals take back: the creator's share of a tip, the coins of a pack. */
  share: bigint;
  /** Refunds and open or lost disputes booked so far, and the share they took back. */
  reversedAmount: bigint;
  reversedShare: bigint;
}

export interface ReversalPlan {
  /** Of the money the provider took back, the part reversed against the payment. */
  covered: bigint;
  /** The part that had been reversed already: a loss. */
  uncovered: bigint;
  /** The share this reversal takes back. */
  share: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * What reversing `requested` minor units takes back. `shareIsMoney` (tips): the share is part of
 * the amount, so it never exceeds the money covered (the platform's part is never negative).
 */
export function planReversal(state: ReversalState, requested: bigint, options: { shareIsMoney: boolean }): ReversalPlan {
  if (requested < 0n) throw new RangeError(`A reversal cannot be negative: ${requested}`);
  if (state.amount <= 0n) throw new RangeError('A payment has a positive amount');
  const covered = min(requested, max(0n, state.amount - state.reversedAmount));
  const target = (state.share * (state.reversedAmount + covered)) / state.amount;
  const left = max(0n, state.share - state.reversedShare);
  const cap = options.shareIsMoney ? min(left, covered) : left;
  return { covered, uncovered: requested - covered, share: min(max(0n, target - state.reversedShare), cap) };
}

export interface TipReversal {
  lines: Line[];
  fromPending: bigint;
  fromAvailable: bigint;
}

/**
 * A tip's refund or dispute: the provider takes the money (and a dispute fee) out of clearing;
 * the creator's share comes back from pending first, then available, which may go negative
 * (future earnings repay it); the platform's part (its fee and the processing fee it had
 * recovered) from revenue. The provider keeps its processing fee: it stays the platform's
 * expense. Money reversed twice and dispute fees are losses.
 */
export function tipReversalLines(input: { creatorId: string; currency: string; plan: ReversalPlan; fee: bigint; pendingBalance: bigint }): TipReversal {
  const { plan, currency: c } = input;
  const fromPending = min(plan.share, max(0n, input.pendingBalance));
  const fromAvailable = plan.share - fromPending;
  return {
    fromPending,
    fromAvailable,
    lines: [
      credit(platformAccount('provider_clearing', c), plan.covered + plan.uncovered + input.fee),
      debit(userAccount('earnings_pending', input.creatorId, c), fromPending),
      debit(userAccount('earnings_available', input.creatorId, c), fromAvailable),
      debit(platformAccount('platform_revenue', c), plan.covered - plan.share),
      debit(platformAccount('refund_losses', c), plan.uncovered + input.fee),
    ],
  };
}

export interface CoinReversal {
  lines: Line[];
  clawedBack: bigint;
  /** Coins owed back that had been spent already: their value is a loss. */
  spent: bigint;
}

/**
 * A coin pack's refund or dispute: the coins owed back leave the buyer's wallet as far as it
 * holds them (coins are alike, whichever pack they came from); their value is no longer owed
 * (coin liability). Coins already spent were earned by creators, who keep them: their value is
 * a loss. Revenue gives back the rest of the money; the provider's processing fee stays an expense.
 */
export function coinReversalLines(input: { buyerId: string; currency: string; plan: ReversalPlan; fee: bigint; coinValue: bigint; walletBalance: bigint }): CoinReversal {
  const { plan, currency: c, coinValue } = input;
  const clawedBack = min(plan.share, max(0n, input.walletBalance));
  const spent = plan.share - clawedBack;
  const revenue = plan.covered - plan.share * coinValue;
  return {
    clawedBack,
    spent,
    lines: [
      debit(userAccount('coin_wallet', input.buyerId, COIN), clawedBack),
      credit(platformAccount('coin_issuance', COIN), clawedBack),
      credit(platformAccount('provider_clearing', c), plan.covered + plan.uncovered + input.fee),
      debit(platformAccount('coin_liability', c), clawedBack * coinValue),
      debit(platformAccount('refund_losses', c), spent * coinValue + plan.uncovered + input.fee),
      // Rounding (whole coins against minor units) can make the coins' value exceed the money by a little.
      revenue >= 0n ? debit(platformAccount('platform_revenue', c), revenue) : credit(platformAccount('platform_revenue', c), -revenue),
    ],
  };
}

/** A booked payment's status from what happened to it since. */
export function bookedPaymentStatus(input: { amount: bigint; refundedAmount: bigint; disputeStatuses: readonly string[] }): PaymentStatus {
  if (input.disputeStatuses.some((s) => s === 'open' || s === 'lost')) return 'disputed';
  if (input.refundedAmount >= input.amount) return 'refunded';
  if (input.refundedAmount > 0n) return 'partially_refunded';
  return 'succeeded';
}
