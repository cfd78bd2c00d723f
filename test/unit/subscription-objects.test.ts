import { describe, expect, it } from 'vitest';
import { buildStripeEvent } from '../../lib/payments/stripe-events.ts';
import { invoicePeriod, invoiceSubscriptionIds, MalformedStripeObjectError, readInvoice, readSubscription, subscriptionMetadataId } from '../../lib/payments/stripe-objects.ts';
import { splitSubscription, subscriptionShareLines } from '../../lib/subscriptions/rules.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';

// How subscription events are read: our subscription id from an invoice of either API shape,
// the period it pays for, and the README's worked example of a revenue share.

const ours = '0b6d3c1e-4f65-4a7e-9c1d-2f5b8a9e0c11';

describe('invoices of subscriptions', () => {
  it("finds our id in the parent's metadata (current API), the older subscription_details, or the invoice's own metadata", () => {
    const current = readInvoice(buildStripeEvent({ type: 'invoice.paid', createdSeconds: 1, object: { parent: { subscription_details: { subscription: 'sub_1', metadata: { subscriptionId: ours } } } } }).data.object);
    expect(invoiceSubscriptionIds(current)).toEqual({ subscriptionId: ours, providerSubscriptionId: 'sub_1' });
    const older = readInvoice({ id: 'in_1', currency: 'usd', subscription: 'sub_2', subscription_details: { metadata: { subscriptionId: ours } }, parent: null });
    expect(invoiceSubscriptionIds(older)).toEqual({ subscriptionId: ours, providerSubscriptionId: 'sub_2' });
    const none = readInvoice({ id: 'in_2', currency: 'usd', subscription: { id: 'sub_3' } });
    expect(invoiceSubscriptionIds(none)).toEqual({ subscriptionId: undefined, providerSubscriptionId: 'sub_3' });
  });

  it("takes the period from the first line, else the invoice's own; none when neither is a period", () => {
    const lined = readInvoice({ id: 'in_1', currency: 'usd', period_start: 5, period_end: 5, lines: { data: [{ period: { start: 100, end: 200 } }] } });
    expect(invoicePeriod(lined)).toEqual({ start: 100, end: 200 });
    expect(invoicePeriod(readInvoice({ id: 'in_2', currency: 'usd', period_start: 10, period_end: 20, lines: { data: [] } }))).toEqual({ start: 10, end: 20 });
    expect(invoicePeriod(readInvoice({ id: 'in_3', currency: 'usd', period_start: 20, period_end: 20 }))).toBeUndefined();
  });

  it('refuses what is not an invoice or a subscription', () => {
    expect(() => readInvoice({ id: 'in_1', currency: 'dollars' })).toThrow(MalformedStripeObjectError);
    expect(() => readSubscription({ id: 'sub_1' })).toThrow(MalformedStripeObjectError);
    expect(subscriptionMetadataId(readSubscription({ id: 'sub_1', status: 'active', metadata: { subscriptionId: ours } }))).toBe(ours);
  });

  it('has samples of every subscription event type that read as what they are', () => {
    for (const type of ['invoice.paid', 'invoice.payment_failed']) expect(invoicePeriod(readInvoice(buildStripeEvent({ type, createdSeconds: 1 }).data.object))).toBeDefined();
    for (const type of ['customer.subscription.updated', 'customer.subscription.deleted']) expect(readSubscription(buildStripeEvent({ type, createdSeconds: 1 }).data.object).id).toMatch(/^sub_/);
  });
});

describe("the README's worked example", () => {
  const money: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
  it('splits a 4.99 period: 0.44 processing, 2.27 to the creator, 2.28 to the platform', () => {
    expect(splitSubscription(499n, money, 5000)).toEqual({ processing: 44n, creator: 227n, platform: 228n });
    const lines = subscriptionShareLines(ours, 499n, money, 5000);
    expect(lines.map((l) => [l.side, l.account.kind, l.amount])).toEqual([
      ['debit', 'provider_clearing', 455n],
      ['debit', 'processing_fees', 44n],
      ['credit', 'earnings_pending', 227n],
      ['credit', 'platform_revenue', 272n],
    ]);
  });
});
