import { platformAccount, userAccount } from '../ledger/chart.ts';
import { credit, debit, type Line } from '../ledger/rules.ts';

// How a payout books: pure lines and the idempotency keys that make each step happen once.
// reserve: available → reserved; then exactly one of release (→ available, before anything
// was sent), paid (→ platform cash) or returned (→ available, the payment failed).

export const payoutKeys = {
  reserve: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}`,
  release: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/released`,
  paid: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/paid`,
  returned: (runId: string, creatorId: string) => `payout/${runId}/${creatorId}/returned`,
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
