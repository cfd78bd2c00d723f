import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountCode, prepareLines, type Line } from '../../lib/ledger/index.ts';
import { coinPurchaseLines, giftLines, splitTip, tipLines, type MoneyRules } from '../../lib/money/rules.ts';

const rules: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
const creator = '00000000-0000-4000-8000-00000000000c';
const buyer = '00000000-0000-4000-8000-00000000000b';

const amountOn = (lines: Line[], code: string) => lines.filter((l) => accountCode(l.account) === code).reduce((s, l) => s + l.amount, 0n);

describe('tips', () => {
  it('splits $10.00: 10% platform fee, 2.9% + 30¢ processing recovered from the creator', () => {
    expect(splitTip(1000n, rules)).toEqual({ platform: 100n, processing: 59n, creator: 841n });
    const lines = tipLines(creator, 1000n, rules);
    expect(amountOn(lines, `${creator}:earnings_pending:USD`)).toBe(841n);
    expect(amountOn(lines, 'platform:provider_clearing:USD')).toBe(941n);
    expect(amountOn(lines, 'platform:processing_fees:USD')).toBe(59n);
    expect(amountOn(lines, 'platform:platform_revenue:USD')).toBe(159n);
  });

  it('never gives the creator a negative share: fees stop at what the tip holds', () => {
    expect(splitTip(31n, rules)).toEqual({ platform: 3n, processing: 28n, creator: 0n });
  });

  it('balances and splits exactly for every amount (property)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 14n), fc.integer({ min: 0, max: 10_000 }), (amount, fee) => {
        const r = { ...rules, platformFeeBps: fee };
        const split = splitTip(amount, r);
        expect(split.creator + split.platform + split.processing).toBe(amount);
        expect(split.creator >= 0n && split.platform >= 0n && split.processing >= 0n).toBe(true);
        expect(() => prepareLines(tipLines(creator, amount, r))).not.toThrow();
      }),
    );
  });
});

describe('coins and gifts', () => {
  it('books a pack of 100 coins for $1.40: coins to the wallet, $1.00 owed to creators, the rest revenue less fees', () => {
    const lines = coinPurchaseLines(buyer, 100n, 140n, rules);
    expect(amountOn(lines, `${buyer}:coin_wallet:COIN`)).toBe(100n);
    expect(amountOn(lines, 'platform:coin_liability:USD')).toBe(100n);
    expect(amountOn(lines, 'platform:platform_revenue:USD')).toBe(40n);
    expect(amountOn(lines, 'platform:processing_fees:USD')).toBe(34n);
    expect(() => prepareLines(lines)).not.toThrow();
  });

  it('refuses a pack priced below the creator value of its coins', () => {
    expect(() => coinPurchaseLines(buyer, 100n, 99n, rules)).toThrow(RangeError);
  });

  it('moves a gift’s coins out of the wallet and their value from the liability to the creator', () => {
    const lines = giftLines(buyer, creator, 250n, { ...rules, coinCreatorValue: 2n });
    expect(amountOn(lines, `${buyer}:coin_wallet:COIN`)).toBe(250n);
    expect(amountOn(lines, `${creator}:earnings_pending:USD`)).toBe(500n);
    expect(amountOn(lines, 'platform:coin_liability:USD')).toBe(500n);
    expect(() => prepareLines(lines)).not.toThrow();
  });
});
