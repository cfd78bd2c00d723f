import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { buildStripeEvent, parseStripeEvent, signedStripeDelivery } from '../../lib/payments/stripe-events.ts';
import { SIGNATURE_TOLERANCE_SECONDS, stripeSignatureHeader, verifyStripeSignature } from '../../lib/payments/stripe-signature.ts';

const secret = 'whsec_0123456789abcdef0123456789abcdef';
const otherSecret = 'whsec_fedcba9876543210fedcba9876543210';
const now = 1_780_000_000;
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', note: 'tip for café ☕' });

const verify = (header: string | undefined, payload: string | Uint8Array = body, at = now) =>
  verifyStripeSignature({ payload, header, secret, nowSeconds: at });

describe('Stripe webhook signatures', () => {
  it('accepts a body signed with the endpoint secret, as string or as the raw bytes', () => {
    const header = stripeSignatureHeader(body, secret, now);
    expect(header).toMatch(/^t=1780000000,v1=[0-9a-f]{64}$/);
    expect(verify(header)).toEqual({ valid: true, timestamp: now });
    expect(verify(header, new TextEncoder().encode(body))).toEqual({ valid: true, timestamp: now });
  });

  it('refuses a signature made with another secret', () => {
    expect(verify(stripeSignatureHeader(body, otherSecret, now))).toEqual({ valid: false, failure: 'no_matching_signature' });
  });

  it('refuses a tampered body, even by one byte or a reformatting', () => {
    const header = stripeSignatureHeader(body, secret, now);
    expect(verify(header, body.replace('evt_1', 'evt_2'))).toEqual({ valid: false, failure: 'no_matching_signature' });
    expect(verify(header, `${body} `)).toEqual({ valid: false, failure: 'no_matching_signature' });
    expect(verify(header, JSON.stringify(JSON.parse(body), null, 2))).toEqual({ valid: false, failure: 'no_matching_signature' });
  });

  it('refuses a signature whose timestamp was moved: t is part of what is signed', () => {
    const [, v1] = stripeSignatureHeader(body, secret, now - 1000).split(',');
    expect(verify(`t=${now},${v1}`)).toEqual({ valid: false, failure: 'no_matching_signature' });
  });

  it(`refuses a delivery signed more than ${SIGNATURE_TOLERANCE_SECONDS} s ago, accepts one at the limit and one from a clock ahead`, () => {
    const signedAt = now - SIGNATURE_TOLERANCE_SECONDS;
    expect(verify(stripeSignatureHeader(body, secret, signedAt))).toEqual({ valid: true, timestamp: signedAt });
    expect(verify(stripeSignatureHeader(body, secret, signedAt - 1))).toEqual({ valid: false, failure: 'timestamp_too_old' });
    expect(verify(stripeSignatureHeader(body, secret, now + 120))).toEqual({ valid: true, timestamp: now + 120 });
  });

  it('accepts any matching v1 among several (a secret being rolled), and refuses when none matches', () => {
    const good = stripeSignatureHeader(body, secret, now).split(',')[1]!;
    const stale = stripeSignatureHeader(body, otherSecret, now).split(',')[1]!;
    expect(verify(`t=${now},${stale},${good}`)).toEqual({ valid: true, timestamp: now });
    expect(verify(`t=${now},${good},${stale}`)).toEqual({ valid: true, timestamp: now });
    expect(verify(`t=${now},v0=${'0'.repeat(64)},${good}`)).toEqual({ valid: true, timestamp: now });
    expect(verify(`t=${now},${stale},v1=not-hex`)).toEqual({ valid: false, failure: 'no_matching_signature' });
  });

  it('names what is wrong with a missing or malformed header', () => {
    const v1 = stripeSignatureHeader(body, secret, now).split(',')[1]!;
    expect(verify(undefined)).toEqual({ valid: false, failure: 'missing_header' });
    expect(verify('')).toEqual({ valid: false, failure: 'missing_header' });
    expect(verify(v1)).toEqual({ valid: false, failure: 'malformed_header' });
    expect(verify(`t=soon,${v1}`)).toEqual({ valid: false, failure: 'malformed_header' });
    expect(verify(`t=${now},t=${now},${v1}`)).toEqual({ valid: false, failure: 'malformed_header' });
    expect(verify(`garbage`)).toEqual({ valid: false, failure: 'malformed_header' });
    expect(verify(`t=${now},v0=${'0'.repeat(64)}`)).toEqual({ valid: false, failure: 'no_v1_signature' });
  });

  it("signs exactly as Stripe's own library does, and each side accepts the other's", () => {
    const ours = stripeSignatureHeader(body, secret, now);
    expect(ours).toBe(Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: now }));

    const event = buildStripeEvent({ type: 'charge.refunded', object: { metadata: { tipId: 't-1' } }, createdSeconds: now });
    const signedAt = Math.floor(Date.now() / 1000);
    const delivery = signedStripeDelivery(event, secret, signedAt);
    const constructed = Stripe.webhooks.constructEvent(delivery.body, delivery.signature, secret);
    expect(constructed).toMatchObject({ id: event.id, type: 'charge.refunded', data: { object: { metadata: { tipId: 't-1' } } } });
    expect(() => Stripe.webhooks.constructEvent(delivery.body.replace('t-1', 't-2'), delivery.signature, secret)).toThrow();

    const theirs = Stripe.webhooks.generateTestHeaderString({ payload: delivery.body, secret, timestamp: signedAt });
    expect(verifyStripeSignature({ payload: delivery.body, header: theirs, secret, nowSeconds: signedAt })).toEqual({ valid: true, timestamp: signedAt });
  });
});

describe('Stripe events', () => {
  it('builds an event with a fresh evt_ id around a sample object that the caller overrides', () => {
    const a = buildStripeEvent({ type: 'payment_intent.succeeded', object: { amount: 1234, metadata: { coinPurchaseId: 'c-1' } }, createdSeconds: now });
    const b = buildStripeEvent({ type: 'payment_intent.succeeded', createdSeconds: now });
    expect(a.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ object: 'event', type: 'payment_intent.succeeded', created: now, livemode: false });
    expect(a.data.object).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount: 1234, currency: 'usd', metadata: { coinPurchaseId: 'c-1' } });
    expect(b.data.object).toMatchObject({ amount: 500, metadata: {} });
    // Refunds and disputes point at the PaymentIntent they concern, whose metadata carries our ids.
    for (const type of ['charge.refunded', 'charge.dispute.created', 'charge.dispute.closed']) {
      expect(buildStripeEvent({ type, createdSeconds: now }).data.object.payment_intent).toMatch(/^pi_/);
    }
    expect(buildStripeEvent({ type: 'payment_intent.payment_failed', createdSeconds: now }).data.object).toMatchObject({ object: 'payment_intent', amount_received: 0 });
  });

  it('parses what it built and refuses what is not a Stripe event', () => {
    const event = buildStripeEvent({ type: 'charge.dispute.created', createdSeconds: now });
    expect(parseStripeEvent(signedStripeDelivery(event, secret, now).body)).toEqual(event);
    expect(parseStripeEvent('{"id": ')).toBeUndefined();
    expect(parseStripeEvent(JSON.stringify({ ...event, id: 'not-an-event-id' }))).toBeUndefined();
    expect(parseStripeEvent(JSON.stringify({ ...event, object: 'charge' }))).toBeUndefined();
    expect(parseStripeEvent(JSON.stringify({ ...event, data: {} }))).toBeUndefined();
    expect(parseStripeEvent('[]')).toBeUndefined();
  });
});
