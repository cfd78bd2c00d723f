import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountCode,
  basisPoints,
  checkAccountRef,
  COIN,
  credit,
  debit,
  fingerprint,
  normalBalance,
  platformAccount,
  prepareLines,
  reversalLines,
  toJsonAmount,
  UnbalancedEntryError,
  userAccount,
} from '../../lib/ledger/index.ts';

const user = '00000000-0000-4000-8000-000000000001';
const clearing = platformAccount('provider_clearing', 'USD');
const revenue = platformAccount('platform_revenue', 'USD');
const pending = userAccount('earnings_pending', user, 'USD');
const wallet = userAccount('coin_wallet', user, COIN);
const issuance = platformAccount('coin_issuance', COIN);

describe('prepareLines', () => {
  it('accepts a balanced entry, drops zero lines and orders lines by account code then side', () => {
    const lines = prepareLines([credit(pending, 900n), debit(clearing, 1000n), credit(revenue, 100n), credit(revenue, 0n)]);
    expect(lines.map((l) => [accountCode(l.account), l.side, l.amount])).toEqual([
      [`${user}:earnings_pending:USD`, 'credit', 900n],
      ['platform:platform_revenue:USD', 'credit', 100n],
      ['platform:provider_clearing:USD', 'debit', 1000n],
    ]);
  });

  it('checks balance per currency, so coins cannot pay for dollars', () => {
    expect(() => prepareLines([debit(clearing, 100n), credit(wallet, 100n)])).toThrow(UnbalancedEntryError);
    expect(() => prepareLines([debit(clearing, 100n), credit(revenue, 99n)])).toThrow(/does not balance in USD: debits − credits = 1/);
    expect(prepareLines([debit(clearing, 100n), credit(revenue, 100n), debit(issuance, 5n), credit(wallet, 5n)])).toHaveLength(4);
  });

  it('refuses negative amounts, numbers and entries of fewer than two non-zero lines', () => {
    expect(() => prepareLines([debit(clearing, -5n), credit(revenue, -5n)])).toThrow(RangeError);
    expect(() => prepareLines([debit(clearing, 5 as unknown as bigint), credit(revenue, 5n)])).toThrow(TypeError);
    expect(() => prepareLines([debit(clearing, 0n), credit(revenue, 0n)])).toThrow(/at least two/);
  });

  it('accepts every balanced entry and refuses every entry changed by one unit (property)', () => {
    const accounts = [clearing, revenue, pending, platformAccount('processing_fees', 'USD')];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), fc.bigInt(1n, 10n ** 12n)), { minLength: 1, maxLength: 6 }), fc.nat(10), (credits, pick) => {
        const total = credits.reduce((sum, [, amount]) => sum + amount, 0n);
        const lines = [debit(clearing, total), ...credits.map(([i, amount]) => credit(accounts[i]!, amount))];
        expect(prepareLines(lines).reduce((s, l) => s + (l.side === 'debit' ? l.amount : -l.amount), 0n)).toBe(0n);
        const changed = lines.map((l, i) => (i === pick % lines.length ? { ...l, amount: l.amount + 1n } : l));
        expect(() => prepareLines(changed)).toThrow(UnbalancedEntryError);
      }),
    );
  });
});

describe('chart of accounts', () => {
  it('keeps coins in coin accounts and money in money accounts, platform accounts without an owner', () => {
    expect(() => checkAccountRef(userAccount('coin_wallet', user, 'USD'))).toThrow(/cannot hold USD/);
    expect(() => checkAccountRef(userAccount('earnings_pending', user, COIN))).toThrow(/cannot hold COIN/);
    expect(() => checkAccountRef(userAccount('platform_revenue', user, 'USD'))).toThrow(/belongs to the platform/);
    expect(() => checkAccountRef(platformAccount('coin_wallet', COIN))).toThrow(/belongs to a user/);
    expect(() => checkAccountRef(platformAccount('provider_clearing', 'usd'))).toThrow(/cannot hold usd/);
  });

  it('names accounts readably: owner, kind, currency', () => {
    expect(accountCode(wallet)).toBe(`${user}:coin_wallet:COIN`);
    expect(accountCode(clearing)).toBe('platform:provider_clearing:USD');
  });
});

describe('amount helpers', () => {
  it('fingerprints the prepared lines, not the order the caller gave', () => {
    const a = prepareLines([debit(clearing, 10n), credit(revenue, 3n), credit(pending, 7n)]);
    const b = prepareLines([credit(pending, 7n), credit(revenue, 3n), debit(clearing, 10n)]);
    expect(fingerprint('tip', a)).toBe(fingerprint('tip', b));
    expect(fingerprint('tip', a)).not.toBe(fingerprint('gift', a));
    expect(fingerprint('tip', a)).not.toBe(fingerprint('tip', prepareLines([debit(clearing, 10n), credit(revenue, 4n), credit(pending, 6n)])));
  });

  it('reads balances on the normal side and reverses by flipping sides', () => {
    expect(normalBalance('credit', 30n, 100n)).toBe(70n);
    expect(normalBalance('debit', 30n, 100n)).toBe(-70n);
    expect(reversalLines([debit(clearing, 5n), credit(revenue, 5n)]).map((l) => l.side)).toEqual(['credit', 'debit']);
  });

  it('takes basis points rounding down, exactly, even beyond 2^53', () => {
    expect(basisPoints(999n, 1000)).toBe(99n);
    expect(basisPoints(10n ** 20n + 7n, 2500)).toBe(25n * 10n ** 18n + 1n);
    expect(() => basisPoints(1n, 10_001)).toThrow(RangeError);
    expect(() => basisPoints(1n, 2.5)).toThrow(RangeError);
  });

  it('refuses to put an amount into JSON that a number cannot hold exactly', () => {
    expect(toJsonAmount(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toJsonAmount(2n ** 53n)).toThrow(RangeError);
  });
});
