import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountCode, prepareLines, type Line } from '../../lib/ledger/index.ts';
import { planReversal, tipReversalLines } from '../../lib/money/reversals.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';
import { recipientOrder, recipientRank } from '../../lib/subscriptions/gifts.ts';
import { splitSubscription, subscriptionShareLines } from '../../lib/subscriptions/rules.ts';

// Who a gift of subscriptions offers them to first (lib/subscriptions/gifts.ts): viewers of the
// room before followers, each in an order drawn from the gift's id, the same on every retry.

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('recipientOrder', () => {
  it('puts every viewer before any follower, and lists each person once', () => {
    const viewers = ids(6);
    const followers = [...ids(5), viewers[0]!, viewers[3]!];
    const order = recipientOrder(randomUUID(), [...viewers, viewers[1]!], followers);
    expect(order).toHaveLength(11);
    expect(new Set(order).size).toBe(11);
    expect(new Set(order.slice(0, 6))).toEqual(new Set(viewers));
    expect(new Set(order.slice(6))).toEqual(new Set(followers.slice(0, 5)));
  });

  it('is the same for the same gift whatever order the candidates come in (a retry picks the same people)', () => {
    const gift = randomUUID();
    const viewers = ids(20);
    const followers = ids(20);
    const first = recipientOrder(gift, viewers, followers);
    expect(recipientOrder(gift, [...viewers].reverse(), [...followers].reverse())).toEqual(first);
    expect(first.slice(0, 5)).toEqual(recipientOrder(gift, viewers, []).slice(0, 5));
  });

  it('draws a different order for another gift', () => {
    const viewers = ids(30);
    const orders = new Set(Array.from({ length: 5 }, () => recipientOrder(randomUUID(), viewers, []).join()));
    expect(orders.size).toBe(5);
  });

  it('ranks by md5 of `<giftId>:<userId>`, the order the SQL query reads candidates in (md5() there)', () => {
    const gift = randomUUID();
    const viewers = ids(10);
    const expected = [...viewers].sort((a, b) => {
      const [ha, hb] = [a, b].map((id) => createHash('md5').update(`${gift}:${id}`).digest('hex'));
      return ha! < hb! ? -1 : 1;
    });
    expect(recipientOrder(gift, viewers, [])).toEqual(expected);
    expect(recipientRank(gift, viewers[0]!)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('offers nobody when nobody is eligible', () => {
    expect(recipientOrder(randomUUID(), [], [])).toEqual([]);
  });
});

const money: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
const creator = '00000000-0000-4000-8000-00000000000c';
const net = (lines: Line[], code: string) => lines.filter((l) => accountCode(l.account) === code).reduce((s, l) => s + (l.side === 'debit' ? l.amount : -l.amount), 0n);

// A gift's money is booked by lib/money/payment-bookings.ts as the subscription split of the whole
// amount, and reversed (refund, dispute) with the tips' reversal: both put the creator's share as
// money in pending earnings and the rest in revenue, so the tips' rule fits.
describe('the money of a gift of subscriptions', () => {
  it('5 × 9.99: the creator half of what is left after the fee; a full refund takes exactly that back', () => {
    const split = splitSubscription(4995n, money, 5000);
    expect(split).toEqual({ processing: 174n, creator: 2410n, platform: 2411n });
    const booked = subscriptionShareLines(creator, 4995n, money, 5000);
    expect(() => prepareLines(booked)).not.toThrow();
    const plan = planReversal({ amount: 4995n, share: split.creator, reversedAmount: 0n, reversedShare: 0n }, 4995n, { shareIsMoney: true });
    const reversed = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 0n, pendingBalance: split.creator }).lines;
    expect(() => prepareLines(reversed)).not.toThrow();
    const both = [...booked, ...reversed];
    expect(net(both, `${creator}:earnings_pending:USD`)).toBe(0n);
    expect(net(both, 'platform:platform_revenue:USD')).toBe(0n);
    // The provider keeps its fee: the platform's expense, out of clearing.
    expect(net(both, 'platform:processing_fees:USD')).toBe(174n);
    expect(net(both, 'platform:provider_clearing:USD')).toBe(-174n);
  });

  it('refunded in parts, gives back exactly the creator share booked, never more', () => {
    const split = splitSubscription(2495n, money, 5000);
    let state = { amount: 2495n, share: split.creator, reversedAmount: 0n, reversedShare: 0n };
    for (const part of [499n, 998n, 998n]) {
      const plan = planReversal(state, part, { shareIsMoney: true });
      state = { ...state, reversedAmount: state.reversedAmount + plan.covered, reversedShare: state.reversedShare + plan.share };
    }
    expect(state.reversedShare).toBe(split.creator);
  });
});
