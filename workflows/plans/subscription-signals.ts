// What reaches a `subscription/<id>` workflow (workflows/subscription.ts) as signals: compact
// payloads made from Stripe's events by activities/subscription-events.ts, and the owner's
// cancel/resume from the API. Plain data (bigint does not cross the payload converter: amounts
// are decimal strings). Pure: the workflow imports it.

export const SUBSCRIPTION_SIGNALS = {
  invoicePaid: 'invoicePaid',
  invoiceFailed: 'invoiceFailed',
  providerChanged: 'providerChanged',
  cancellationChanged: 'cancellationChanged',
} as const;

/** `invoice.paid`: one period paid (each invoice id books once). */
export interface InvoicePaidSignal {
  invoiceId: string;
  /** Minor units, decimal string. */
  amount: string;
  currency: string;
  /** The period it pays for, ISO 8601. */
  periodStart: string;
  periodEnd: string;
}

/** `invoice.payment_failed`: an attempt to pay an invoice failed (Stripe retries on its own schedule). */
export interface InvoiceFailedSignal {
  invoiceId: string;
  amount: string;
  currency: string;
  attempt: number;
  /** The period the invoice is for, when it names one. */
  periodEnd: string | null;
  nextAttemptAt: string | null;
}

/** `customer.subscription.updated` / `.deleted`: the provider's view, stamped with the event's time (ms). */
export interface ProviderChangedSignal {
  status: string;
  cancelAtPeriodEnd: boolean;
  deleted: boolean;
  eventCreatedAt: number;
}

/** The owner cancelled (or resumed) at period end through the API; `at` is when (ms). */
export interface CancellationChangedSignal {
  cancelAtPeriodEnd: boolean;
  at: number;
}
