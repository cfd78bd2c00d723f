import { z } from 'zod';

// The fields StreamHub reads from the objects Stripe's events carry (`data.object`): a
// PaymentIntent, a Charge, a Dispute (https://docs.stripe.com/api). Amounts become bigint minor
// units and currencies upper case here, once. Pure.

const amount = z
  .number()
  .int()
  .nonnegative()
  .transform((n) => BigInt(n));
const currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/)
  .transform((c) => c.toUpperCase());
/** An expandable reference: the id, or the expanded object with its id. */
const reference = z
  .union([z.string(), z.looseObject({ id: z.string() })])
  .nullish()
  .transform((r) => (r == null ? null : typeof r === 'string' ? r : r.id));
const metadata = z.record(z.string(), z.unknown()).nullish();

const paymentIntentSchema = z.looseObject({
  id: z.string(),
  amount,
  amount_received: amount.optional(),
  currency,
  metadata,
  latest_charge: reference,
  last_payment_error: z.looseObject({ code: z.string().nullish(), decline_code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const chargeSchema = z.looseObject({
  id: z.string(),
  amount,
  amount_refunded: amount,
  currency,
  metadata,
  payment_intent: reference,
});

const disputeSchema = z.looseObject({
  id: z.string(),
  amount,
  currency,
  status: z.string(),
  reason: z.string().nullish(),
  charge: reference,
  payment_intent: reference,
  metadata,
});

const seconds = z.number().int().nonnegative();
const period = z.looseObject({ start: seconds, end: seconds });

/** An invoice of a subscription (Stripe Billing). Our subscription id is in its parent's metadata. */
const invoiceSchema = z.looseObject({
  id: z.string(),
  amount_paid: amount.optional(),
  amount_due: amount.optional(),
  currency,
  attempt_count: z.number().int().nonnegative().nullish(),
  next_payment_attempt: seconds.nullish(),
  period_start: seconds.nullish(),
  period_end: seconds.nullish(),
  metadata,
  lines: z.looseObject({ data: z.array(z.looseObject({ period: period.nullish() })) }).nullish(),
  // Current API versions: `parent.subscription_details`; older ones: `subscription` and `subscription_details` on the invoice.
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: reference, metadata }).nullish() }).nullish(),
  subscription_details: z.looseObject({ metadata }).nullish(),
  subscription: reference,
});

const subscriptionSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  cancel_at_period_end: z.boolean().nullish(),
  metadata,
});

export type StripeInvoice = z.infer<typeof invoiceSchema>;
export type StripeSubscription = z.infer<typeof subscriptionSchema>;

export type StripePaymentIntent = z.infer<typeof paymentIntentSchema>;
export type StripeCharge = z.infer<typeof chargeSchema>;
export type StripeDispute = z.infer<typeof disputeSchema>;

export class MalformedStripeObjectError extends Error {
  constructor(what: string, issues: string) {
    super(`Not a Stripe ${what}: ${issues}`);
    this.name = 'MalformedStripeObjectError';
  }
}

function reader<T>(what: string, schema: z.ZodType<T>) {
  return (object: unknown): T => {
    const parsed = schema.safeParse(object);
    if (!parsed.success) throw new MalformedStripeObjectError(what, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  };
}

export const readPaymentIntent = reader('PaymentIntent', paymentIntentSchema);
export const readCharge = reader('Charge', chargeSchema);
export const readDispute = reader('Dispute', disputeSchema);
export const readInvoice = reader('Invoice', invoiceSchema);
export const readSubscription = reader('Subscription', subscriptionSchema);

const metadataString = (m: Record<string, unknown> | null | undefined, key: string): string | undefined => {
  const value = m?.[key];
  return typeof value === 'string' && value ? value : undefined;
};

/** The ids an invoice gives for its subscription: ours (metadata) and Stripe's. */
export function invoiceSubscriptionIds(invoice: StripeInvoice): { subscriptionId?: string; providerSubscriptionId: string | null } {
  const details = invoice.parent?.subscription_details;
  return {
    subscriptionId:
      metadataString(details?.metadata, 'subscriptionId') ?? metadataString(invoice.subscription_details?.metadata, 'subscriptionId') ?? metadataString(invoice.metadata, 'subscriptionId'),
    providerSubscriptionId: details?.subscription ?? invoice.subscription ?? null,
  };
}

/** The period an invoice pays for (seconds): its first line's, else the invoice's own; undefined when it names none. */
export function invoicePeriod(invoice: StripeInvoice): { start: number; end: number } | undefined {
  const line = invoice.lines?.data[0]?.period;
  if (line && line.end > line.start) return { start: line.start, end: line.end };
  if (invoice.period_start != null && invoice.period_end != null && invoice.period_end > invoice.period_start) return { start: invoice.period_start, end: invoice.period_end };
  return undefined;
}

export const subscriptionMetadataId = (subscription: StripeSubscription): string | undefined => metadataString(subscription.metadata, 'subscriptionId');

/** Stripe's words for why a payment failed, for people: the message, else the codes. */
export function paymentFailureReason(intent: StripePaymentIntent): string {
  const error = intent.last_payment_error;
  const reason = error?.message ?? [error?.code, error?.decline_code].filter(Boolean).join(': ');
  return (reason || 'The payment failed').slice(0, 500);
}

/**
 * Where a dispute stands in StreamHub's terms. Inquiries (`warning_*`) move no money; a
 * dispute withdraws its amount and a fee until it is won (both reinstated) or lost.
 */
export function disputeOutcome(status: string): 'inquiry' | 'inquiry_closed' | 'open' | 'won' | 'lost' {
  // `charge_refunded`: closed because the payment was refunded (its refund books the money).
  if (status === 'warning_closed' || status === 'charge_refunded') return 'inquiry_closed';
  if (status.startsWith('warning_')) return 'inquiry';
  if (status === 'won') return 'won';
  if (status === 'lost') return 'lost';
  return 'open';
}
