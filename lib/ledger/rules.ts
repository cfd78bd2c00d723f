import { createHash } from 'node:crypto';
import { accountCode, checkAccountRef, type AccountRef, type Side } from './chart.ts';

// Pure rules of a journal entry: what makes its lines valid and balanced. The database checks
// the same again (deferred trigger); these give the caller a clear error before any write.

export interface Line {
  account: AccountRef;
  side: Side;
  /** Integer minor units (coins for COIN), > 0. */
  amount: bigint;
}

export const debit = (account: AccountRef, amount: bigint): Line => ({ account, side: 'debit', amount });
export const credit = (account: AccountRef, amount: bigint): Line => ({ account, side: 'credit', amount });

export class UnbalancedEntryError extends Error {
  readonly currency: string;
  readonly difference: bigint;

  constructor(currency: string, difference: bigint) {
    super(`Entry does not balance in ${currency}: debits − credits = ${difference}`);
    this.name = 'UnbalancedEntryError';
    this.currency = currency;
    this.difference = difference;
  }
}

/**
 * Validates and orders an entry's lines: zero lines dropped (a fee of 0 is no posting),
 * negative or non-integer amounts refused, every currency balanced, at least two lines left.
 * Sorted by account code and side so that every transaction locks accounts in the same order
 * (no deadlocks) and the fingerprint does not depend on how the caller listed them.
 */
export function prepareLines(lines: readonly Line[]): Line[] {
  const kept: Line[] = [];
  for (const line of lines) {
    if (typeof line.amount !== 'bigint') throw new TypeError('Ledger amounts are bigint minor units');
    if (line.amount < 0n) throw new RangeError(`Negative ledger amount ${line.amount} on ${accountCode(line.account)}`);
    checkAccountRef(line.account);
    if (line.amount > 0n) kept.push(line);
  }
  const difference = new Map<string, bigint>();
  for (const line of kept) {
    const sign = line.side === 'debit' ? 1n : -1n;
    difference.set(line.account.currency, (difference.get(line.account.currency) ?? 0n) + sign * line.amount);
  }
  for (const [currency, diff] of difference) if (diff !== 0n) throw new UnbalancedEntryError(currency, diff);
  if (kept.length < 2) throw new RangeError('An entry needs at least two non-zero lines');
  return kept.sort((a, b) => compare(accountCode(a.account), accountCode(b.account)) || compare(a.side, b.side));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A digest of the prepared lines: the same idempotency key with other lines is refused. */
export function fingerprint(kind: string, lines: readonly Line[]): string {
  const canonical = [kind, ...lines.map((l) => `${accountCode(l.account)}|${l.side}|${l.amount}`)].join('\n');
  return createHash('sha256').update(canonical).digest('hex');
}

/** Balance on the account's normal side from its posted totals. */
export function normalBalance(normalSide: Side, debits: bigint, credits: bigint): bigint {
  return normalSide === 'debit' ? debits - credits : credits - debits;
}

/** The lines that undo an entry: every side flipped. */
export function reversalLines(lines: readonly Line[]): Line[] {
  return lines.map((l) => ({ ...l, side: l.side === 'debit' ? 'credit' : 'debit' }));
}

/** `part` of `amount` in basis points, rounded down (the remainder stays with the payer's side). */
export function basisPoints(amount: bigint, bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`Basis points out of range: ${bps}`);
  return (amount * BigInt(bps)) / 10_000n;
}

/** A bigint amount as a JSON number, refusing any value a JS number cannot hold exactly. */
export function toJsonAmount(amount: bigint): number {
  const n = Number(amount);
  if (!Number.isSafeInteger(n)) throw new RangeError(`Amount ${amount} exceeds the exact range of JSON numbers`);
  return n;
}
