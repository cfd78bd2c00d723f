import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { stripeSignatureHeader } from './stripe-signature.ts';

// Stripe's event envelope (https://docs.stripe.com/api/events/object): what a webhook delivers
// and what `payment_events.payload` keeps. Handlers read `data.object` for the resource.

export const stripeEventSchema = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]{1,250}$/, 'a Stripe event id (evt_…)'),
  object: z.literal('event'),
  type: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'a Stripe event type such as payment_intent.succeeded'),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  api_version: z.string().nullable().optional(),
  data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
});

export type StripeEventEnvelope = z.infer<typeof stripeEventSchema>;

/** The event types StreamHub acts on; any other verified event is recorded and marked applied. */
export const STRIPE_EVENT_TYPES = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.closed',
  // Channel subscriptions (Stripe Billing): reach the `subscription/<id>` workflow as signals.
  'invoice.paid',
  'invoice.payment_failed',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;
export type KnownStripeEventType = (typeof STRIPE_EVENT_TYPES)[number];

/** Parses a verified body; undefined when it is not a Stripe event (malformed JSON included). */
export function parseStripeEvent(body: string): StripeEventEnvelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = stripeEventSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

const randomId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * A plausible `data.object` for each type StreamHub acts on, for the dev trigger and tests;
 * the caller's fields replace these (metadata with our own ids is what handlers need).
 */
export function sampleStripeObject(type: string): Record<string, unknown> {
  const paymentIntent = randomId('pi');
  const charge = randomId('ch');
  const money = { amount: 500, currency: 'usd' };
  switch (type) {
    case 'payment_intent.succeeded':
      return { id: paymentIntent, object: 'payment_intent', ...money, amount_received: 500, status: 'succeeded', latest_charge: charge, metadata: {} };
    case 'payment_intent.payment_failed':
      return {
        id: paymentIntent,
        object: 'payment_intent',
        ...money,
        amount_received: 0,
        status: 'requires_payment_method',
        last_payment_error: { code: 'card_declined', message: 'Your card was declined.' },
        metadata: {},
      };
    case 'charge.refunded':
      return { id: charge, object: 'charge', ...money, amount_refunded: 500, refunded: true, payment_intent: paymentIntent, metadata: {} };
    case 'charge.dispute.created':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.closed':
      return {
        id: randomId('dp'),
        object: 'dispute',
        ...money,
        charge,
        payment_intent: paymentIntent,
        reason: 'fraudulent',
        status: type === 'charge.dispute.closed' ? 'lost' : 'needs_response',
        metadata: {},
      };
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      // A month from now, as Stripe's first invoice of a monthly subscription has it.
      const start = Math.floor(Date.now() / 1000);
      const period = { start, end: start + 30 * 86_400 };
      const paid = type === 'invoice.paid';
      return {
        id: randomId('in'),
        object: 'invoice',
        amount_due: 499,
        amount_paid: paid ? 499 : 0,
        currency: 'usd',
        status: paid ? 'paid' : 'open',
        attempt_count: 1,
        billing_reason: 'subscription_create',
        next_payment_attempt: paid ? null : start + 86_400,
        period_start: period.start,
        period_end: period.end,
        lines: { object: 'list', data: [{ id: randomId('il'), object: 'line_item', amount: 499, currency: 'usd', period }] },
        parent: { type: 'subscription_details', subscription_details: { subscription: randomId('sub'), metadata: {} } },
        metadata: {},
      };
    }
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const start = Math.floor(Date.now() / 1000);
      const deleted = type === 'customer.subscription.deleted';
      return {
        id: randomId('sub'),
        object: 'subscription',
        customer: randomId('cus'),
        status: deleted ? 'canceled' : 'active',
        cancel_at_period_end: false,
        ended_at: deleted ? start : null,
        items: { object: 'list', data: [{ id: randomId('si'), object: 'subscription_item', current_period_start: start, current_period_end: start + 30 * 86_400 }] },
        metadata: {},
      };
    }
    default:
      return { id: randomId('obj'), metadata: {} };
  }
}

/** A Stripe-shaped event around `object`, with a fresh `evt_` id, as `stripe trigger` makes one. */
export function buildStripeEvent(input: {
  type: string;
  object?: Record<string, unknown>;
  id?: string;
  createdSeconds: number;
  livemode?: boolean;
  /** The connected account a Connect event comes from (`acct_…`), as Stripe sets it. */
  account?: string;
}): StripeEventEnvelope {
  return {
    id: input.id ?? randomId('evt'),
    object: 'event',
    api_version: null,
    created: input.createdSeconds,
    livemode: input.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: input.type,
    ...(input.account ? { account: input.account } : {}),
    data: { object: { ...sampleStripeObject(input.type), ...input.object } },
  };
}

/** The body and `Stripe-Signature` header Stripe would POST for this event. */
export function signedStripeDelivery(event: StripeEventEnvelope, secret: string, timestampSeconds: number): { body: string; signature: string } {
  const body = JSON.stringify(event, null, 2);
  return { body, signature: stripeSignatureHeader(body, secret, timestampSeconds) };
}
