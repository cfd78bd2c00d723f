import { platformAccount, userAccount } from '../ledger/chart.ts';
import { credit, debit, type Line } from '../ledger/rules.ts';

// How a payout books: pure lines and the idempotency keys that make each step happen once.
// reserve: available → reserved; then exactly one of release (→ available, before anything
// was sent), paid (→ platform cash) or returned (→ available, the payment failed). A paid
// payout the bank returns later gets one compensating entry: platform cash → available.

export const payoutKeys = {
  reserve: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}`,
  release: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/released`,
  paid: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/paid`,
  returned: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/returned`,
  /** A payout paid, then returned by the bank: the compensating entry, once per payout. */
  bankReturned: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/bank-returned`,
};

export function reservationLines(creatorId: string, amount: bigint, currency: string): Line[] {
  return [debit(userAccount('earnings_available', creatorId, currency), amount), credit(userAccount('earnings_reserved', creatorId, currency), amount)];
}

/** Released before execution, or returned after a failed payment: the same move back. */
export function releaseLines(creatorId: string, amount: bigint, currency: string): Line[] {
  return [debit(userAccount('earnings_reserved', creatorId, currency), amount), credit(userAccount('earnings_available', creatorId, currency), amount)];
}

export function paidLines(creatorId: string, amount: bigint, currency: string): Line[] {
  return [debit(userAccount('earnings_reserved', creatorId, currency), amount), credit(platformAccount('platform_cash', currency), amount)];
}

/** The exact reverse of paidLines, into available: the bank sent the money back to the platform. */
export function bankReturnLines(creatorId: string, amount: bigint, currency: string): Line[] {
  return [debit(platformAccount('platform_cash', currency), amount), credit(userAccount('earnings_available', creatorId, currency), amount)];
}
