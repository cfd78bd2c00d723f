import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountCode, prepareLines, type Line } from '../../lib/ledger/index.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';
import { CURRENT_STATUSES, hasPerks, PERK_STATUSES, splitSubscription, subscriptionShareLines, tierPrice } from '../../lib/subscriptions/rules.ts';

// README "Subscriptions": the revenue share of a paid period, and which states keep the perks.

const money: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
const creator = '00000000-0000-4000-8000-00000000000c';
const amountOn = (lines: Line[], code: string) => lines.filter((l) => accountCode(l.account) === code).reduce((s, l) => s + l.amount, 0n);

describe('subscription revenue share', () => {
  it('books the README’s worked example: 4.99 → fee 0.44, creator 2.27, platform 2.28', () => {
    expect(splitSubscription(499n, money, 5000)).toEqual({ processing: 44n, creator: 227n, platform: 228n });
    const lines = subscriptionShareLines(creator, 499n, money, 5000);
    expect(amountOn(lines, 'platform:provider_clearing:USD')).toBe(455n);
    expect(amountOn(lines, 'platform:processing_fees:USD')).toBe(44n);
    expect(amountOn(lines, `${creator}:earnings_pending:USD`)).toBe(227n);
    expect(amountOn(lines, 'platform:platform_revenue:USD')).toBe(272n);
  });

  it('never takes a fee above the amount, and refuses a payment of nothing', () => {
    expect(splitSubscription(20n, money, 5000)).toEqual({ processing: 20n, creator: 0n, platform: 0n });
    expect(() => splitSubscription(0n, money, 5000)).toThrow(RangeError);
  });

  it('balances and splits exactly for every amount, fee and share (property)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 14n), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (amount, feeBps, shareBps) => {
        const rules = { ...money, processingFeeBps: feeBps };
        const split = splitSubscription(amount, rules, shareBps);
        expect(split.creator + split.platform + split.processing).toBe(amount);
        expect(split.creator >= 0n && split.platform >= 0n && split.processing >= 0n).toBe(true);
        // The creator's share is of what is left after the fee, rounded down: never more.
        expect(split.creator * 10_000n <= (amount - split.processing) * BigInt(shareBps)).toBe(true);
        expect(() => prepareLines(subscriptionShareLines(creator, amount, rules, shareBps))).not.toThrow();
      }),
    );
  });

  it('prices tiers from the rules, and keeps perks exactly while active or past due', () => {
    expect(tierPrice({ tierPrices: [499n, 999n, 2499n] }, 2)).toBe(999n);
    expect(PERK_STATUSES).toEqual(['active', 'past_due']);
    expect(CURRENT_STATUSES).toEqual(['incomplete', 'active', 'past_due']);
    expect((['incomplete', 'active', 'past_due', 'lapsed', 'ended'] as const).filter(hasPerks)).toEqual(['active', 'past_due']);
  });
});
