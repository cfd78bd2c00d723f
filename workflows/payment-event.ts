import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ApplyOutcome, PaymentActivities } from '../activities/payments.ts';
import { searchAttributes } from './search-attributes.ts';

export interface PaymentEventInput {
  provider: 'stripe';
  /** The provider's event id; the event itself is read from `payment_events`, which keeps the history small. */
  eventId: string;
}

const payments = proxyActivities<PaymentActivities>({
  // The activity heartbeats while it works: a worker killed mid-event is noticed this soon.
  heartbeatTimeout: '10 seconds',
  startToCloseTimeout: '2 minutes',
  // Money must land eventually: retry until it does (an operator sees the attempts in the UI).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['PaymentEventMissing', 'PaymentEventMalformed'] },
});

/**
 * `payment-event/<provider>/<event id>`: applies one verified webhook event, started by the
 * webhook route. The id makes a redelivered or replayed event start nothing new; the
 * activity applies the event once even when this workflow runs again after its history is gone.
 */
export async function applyPaymentEvent(input: PaymentEventInput): Promise<{ outcome: ApplyOutcome; type: string }> {
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'applying' }]);
  const result = await payments.applyStripeEvent(input.eventId);
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'applied' }]);
  return result;
}
