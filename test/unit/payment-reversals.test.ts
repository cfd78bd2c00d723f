import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountCode, prepareLines, type Line } from '../../lib/ledger/index.ts';
import { bookedPaymentStatus, coinReversalLines, planReversal, tipReversalLines, type ReversalState } from '../../lib/money/reversals.ts';
import { disputeOutcome, paymentFailureReason, readCharge, readDispute, readPaymentIntent } from '../../lib/payments/stripe-objects.ts';

const creator = '00000000-0000-4000-8000-00000000000c';
const buyer = '00000000-0000-4000-8000-00000000000b';

/** Debits − credits on one account code across the lines. */
const net = (lines: Line[], code: string) => lines.filter((l) => accountCode(l.account) === code).reduce((s, l) => s + (l.side === 'debit' ? l.amount : -l.amount), 0n);

const tipState = (over: Partial<ReversalState> = {}): ReversalState => ({ amount: 1000n, share: 841n, reversedAmount: 0n, reversedShare: 0n, ...over });

describe('tip reversals', () => {
  it('takes a full refund of a $10.00 tip back from pending: $8.41 from the creator, $1.59 from revenue, $10.00 out of clearing', () => {
    const plan = planReversal(tipState(), 1000n, { shareIsMoney: true });
    expect(plan).toEqual({ covered: 1000n, uncovered: 0n, share: 841n });
    const { lines, fromPending, fromAvailable } = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 0n, pendingBalance: 841n });
    expect([fromPending, fromAvailable]).toEqual([841n, 0n]);
    expect(net(lines, 'platform:provider_clearing:USD')).toBe(-1000n);
    expect(net(lines, `${creator}:earnings_pending:USD`)).toBe(841n);
    expect(net(lines, 'platform:platform_revenue:USD')).toBe(159n);
    expect(() => prepareLines(lines)).not.toThrow();
  });

  it('takes the creator share from pending first, then available, which may go below zero', () => {
    const plan = planReversal(tipState(), 1000n, { shareIsMoney: true });
    const some = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 0n, pendingBalance: 300n });
    expect([some.fromPending, some.fromAvailable]).toEqual([300n, 541n]);
    const none = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 0n, pendingBalance: -5n });
    expect([none.fromPending, none.fromAvailable]).toEqual([0n, 841n]);
  });

  it('books money reversed a second time (a dispute after a refund) and the dispute fee as losses', () => {
    const plan = planReversal(tipState({ reversedAmount: 1000n, reversedShare: 841n }), 1000n, { shareIsMoney: true });
    expect(plan).toEqual({ covered: 0n, uncovered: 1000n, share: 0n });
    const { lines } = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 1500n, pendingBalance: 0n });
    expect(net(lines, 'platform:refund_losses:USD')).toBe(2500n);
    expect(net(lines, 'platform:provider_clearing:USD')).toBe(-2500n);
    expect(net(lines, `${creator}:earnings_pending:USD`)).toBe(0n);
  });

  it('adds partial refunds up to exactly the booked share, each part within its money (property)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 9n), fc.nat(10_000), fc.array(fc.nat(10_000), { minLength: 1, maxLength: 8 }), (amount, shareBps, cuts) => {
        let state: ReversalState = { amount, share: (amount * BigInt(shareBps)) / 10_000n, reversedAmount: 0n, reversedShare: 0n };
        const parts = [...cuts.map((c) => (amount * BigInt(c)) / 80_000n), amount];
        for (const requested of parts) {
          const plan = planReversal(state, requested, { shareIsMoney: true });
          expect(plan.covered + plan.uncovered).toBe(requested);
          expect(plan.share <= plan.covered && plan.share >= 0n).toBe(true);
          const { lines } = tipReversalLines({ creatorId: creator, currency: 'USD', plan, fee: 0n, pendingBalance: 0n });
          if (requested > 0n) expect(() => prepareLines(lines)).not.toThrow();
          state = { ...state, reversedAmount: state.reversedAmount + plan.covered, reversedShare: state.reversedShare + plan.share };
        }
        expect(state.reversedAmount).toBe(amount);
        expect(state.reversedShare).toBe(state.share);
      }),
    );
  });
});

describe('coin pack reversals', () => {
  const pack = (over: Partial<ReversalState> = {}): ReversalState => ({ amount: 140n, share: 100n, reversedAmount: 0n, reversedShare: 0n, ...over });

  it('claws back the coins still in the wallet and books the value of those spent as a loss', () => {
    const plan = planReversal(pack(), 140n, { shareIsMoney: false });
    expect(plan).toEqual({ covered: 140n, uncovered: 0n, share: 100n });
    const r = coinReversalLines({ buyerId: buyer, currency: 'USD', plan, fee: 0n, coinValue: 1n, walletBalance: 60n });
    expect([r.clawedBack, r.spent]).toEqual([60n, 40n]);
    expect(net(r.lines, `${buyer}:coin_wallet:COIN`)).toBe(60n);
    expect(net(r.lines, 'platform:coin_issuance:COIN')).toBe(-60n);
    expect(net(r.lines, 'platform:coin_liability:USD')).toBe(60n);
    expect(net(r.lines, 'platform:refund_losses:USD')).toBe(40n);
    expect(net(r.lines, 'platform:platform_revenue:USD')).toBe(40n);
    expect(net(r.lines, 'platform:provider_clearing:USD')).toBe(-140n);
    expect(() => prepareLines(r.lines)).not.toThrow();
  });

  it('takes half the coins for half the price, and never more than the wallet holds', () => {
    const plan = planReversal(pack(), 70n, { shareIsMoney: false });
    expect(plan.share).toBe(50n);
    const r = coinReversalLines({ buyerId: buyer, currency: 'USD', plan, fee: 0n, coinValue: 1n, walletBalance: 0n });
    expect([r.clawedBack, r.spent]).toEqual([0n, 50n]);
  });

  it('balances whatever the coin value, wallet and parts, and reverses every coin in the end (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 6n),
        fc.bigInt(1n, 100n),
        fc.bigInt(0n, 10n ** 6n),
        fc.array(fc.nat(10_000), { minLength: 1, maxLength: 6 }),
        fc.bigInt(0n, 10n ** 7n),
        (coins, coinValue, markup, cuts, wallet) => {
          const amount = coins * coinValue + markup;
          let state: ReversalState = { amount, share: coins, reversedAmount: 0n, reversedShare: 0n };
          let walletLeft = wallet;
          for (const requested of [...cuts.map((c) => (amount * BigInt(c)) / 60_000n), amount]) {
            const plan = planReversal(state, requested, { shareIsMoney: false });
            const r = coinReversalLines({ buyerId: buyer, currency: 'USD', plan, fee: 0n, coinValue, walletBalance: walletLeft });
            expect(r.clawedBack <= walletLeft).toBe(true);
            expect(r.clawedBack + r.spent).toBe(plan.share);
            if (requested > 0n) expect(() => prepareLines(r.lines)).not.toThrow();
            walletLeft -= r.clawedBack;
            state = { ...state, reversedAmount: state.reversedAmount + plan.covered, reversedShare: state.reversedShare + plan.share };
          }
          expect(state.reversedShare).toBe(coins);
        },
      ),
    );
  });
});

describe('payment status and Stripe objects', () => {
  it('reads the status from refunds and disputes', () => {
    expect(bookedPaymentStatus({ amount: 500n, refundedAmount: 0n, disputeStatuses: [] })).toBe('succeeded');
    expect(bookedPaymentStatus({ amount: 500n, refundedAmount: 200n, disputeStatuses: ['won'] })).toBe('partially_refunded');
    expect(bookedPaymentStatus({ amount: 500n, refundedAmount: 500n, disputeStatuses: ['inquiry_closed'] })).toBe('refunded');
    expect(bookedPaymentStatus({ amount: 500n, refundedAmount: 500n, disputeStatuses: ['lost'] })).toBe('disputed');
    expect(bookedPaymentStatus({ amount: 500n, refundedAmount: 0n, disputeStatuses: ['open'] })).toBe('disputed');
  });

  it('maps Stripe dispute statuses: inquiries move no money, won and lost close', () => {
    expect(['warning_needs_response', 'warning_under_review', 'warning_closed', 'charge_refunded', 'needs_response', 'under_review', 'won', 'lost'].map(disputeOutcome)).toEqual([
      'inquiry',
      'inquiry',
      'inquiry_closed',
      'inquiry_closed',
      'open',
      'open',
      'won',
      'lost',
    ]);
  });

  it('reads amounts as bigint and currencies in capitals, and refuses what is not the object', () => {
    expect(readPaymentIntent({ id: 'pi_1', amount: 1250, currency: 'usd', metadata: { paymentId: 'x' }, latest_charge: { id: 'ch_1' } })).toMatchObject({
      amount: 1250n,
      currency: 'USD',
      latest_charge: 'ch_1',
    });
    expect(readCharge({ id: 'ch_1', amount: 500, amount_refunded: 200, currency: 'eur', payment_intent: 'pi_1' })).toMatchObject({ amount_refunded: 200n, currency: 'EUR', payment_intent: 'pi_1' });
    expect(readDispute({ id: 'dp_1', amount: 500, currency: 'usd', status: 'needs_response', charge: 'ch_1', payment_intent: null })).toMatchObject({ charge: 'ch_1', payment_intent: null });
    expect(() => readCharge({ id: 'ch_1', amount: 1.5, amount_refunded: 0, currency: 'usd' })).toThrow(/Not a Stripe Charge: amount/);
    expect(paymentFailureReason(readPaymentIntent({ id: 'pi_1', amount: 1, currency: 'usd', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' } }))).toBe(
      'card_declined: insufficient_funds',
    );
  });
});
