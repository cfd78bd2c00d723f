import type { Db } from '../db.ts';
import type { PaymentProvider } from '../schema.ts';
import { startIdempotently, type Temporal } from '../temporal.ts';
import type { applyPaymentEvent } from '../../workflows/payment-event.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { StripeEventEnvelope } from './stripe-events.ts';

// What happens to a verified webhook event: stored once in `payment_events`, then applied by
// the workflow `payment-event/<provider>/<event id>`.

export interface RecordedEvent {
  /** False when this event was already stored (a redelivery or a replay). */
  inserted: boolean;
  appliedAt: Date | null;
}

/** Stores a verified Stripe event unless it is there already; never changes a stored one. */
export async function recordStripeEvent(db: Db, event: StripeEventEnvelope): Promise<RecordedEvent> {
  const provider: PaymentProvider = 'stripe';
  const inserted = await db
    .insertInto('payment_events')
    .values({
      provider,
      event_id: event.id,
      type: event.type,
      payload: JSON.stringify(event),
      livemode: event.livemode,
      provider_created_at: new Date(event.created * 1000),
    })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .returning('event_id')
    .executeTakeFirst();
  if (inserted) return { inserted: true, appliedAt: null };
  const stored = await db
    .selectFrom('payment_events')
    .select('applied_at')
    .where('provider', '=', provider)
    .where('event_id', '=', event.id)
    .executeTakeFirstOrThrow();
  return { inserted: false, appliedAt: stored.applied_at };
}

/**
 * Starts the workflow that applies a stored event. Its id derives from the event id and a
 * closed run is never repeated (REJECT_DUPLICATE), so a redelivery starts nothing new;
 * "already started" is success.
 */
export async function startPaymentEventWorkflow(temporal: Temporal, provider: PaymentProvider, eventId: string): Promise<string> {
  const workflowId = workflowIds.paymentEvent(provider, eventId);
  await startIdempotently(
    temporal.client.workflow.start<typeof applyPaymentEvent>('applyPaymentEvent', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [{ provider, eventId }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  return workflowId;
}

/**
 * Takes in a verified event: stored, and its workflow started unless it was applied already.
 * Safe to repeat: Stripe redelivers until it gets a 2xx, so a crash between the two steps
 * is mended by the next delivery.
 */
export async function acceptStripeEvent(db: Db, temporal: Temporal, event: StripeEventEnvelope): Promise<RecordedEvent> {
  const recorded = await recordStripeEvent(db, event);
  if (!recorded.appliedAt) await startPaymentEventWorkflow(temporal, 'stripe', event.id);
  return recorded;
}
