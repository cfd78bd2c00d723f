import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db, Tx } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import { STRIPE_EVENT_TYPES, stripeEventSchema, type StripeEventEnvelope } from '../lib/payments/stripe-events.ts';
import type { PaymentEventRow } from '../lib/schema.ts';

// Applies stored provider events (table `payment_events`) for the `applyPaymentEvent`
// workflow. One transaction per event: the handler's writes and `applied_at` commit together
// or not at all, under a lock on the event's row, so an attempt that dies halfway leaves
// nothing and the retry applies the event exactly once.

/** A stored, verified Stripe event as handlers see it. */
export interface PaymentEvent {
  provider: 'stripe';
  id: string;
  type: string;
  livemode: boolean;
  /** When Stripe created it; deliveries may arrive out of order. */
  createdAt: Date;
  receivedAt: Date;
  /** `data.object`: the PaymentIntent, Charge or Dispute the event is about. */
  object: Record<string, unknown>;
  /** The string values of `data.object.metadata`: our own ids, set when the PaymentIntent was created. */
  metadata: Record<string, string>;
  payload: StripeEventEnvelope;
}

export interface PaymentEventContext {
  /** The transaction that also marks the event applied: make every effect through it. */
  trx: Tx;
  nats: Nats;
  /**
   * Runs `task` once the transaction committed, on the attempt that applied the event: at
   * most once (a crash right after the commit skips it), so for pushes and frames, never money.
   */
  afterCommit(task: () => Promise<void>): void;
}

export type PaymentEventHandler = (ctx: PaymentEventContext, event: PaymentEvent) => Promise<void>;
export type PaymentEventHandlers = ReadonlyMap<string, PaymentEventHandler>;

/** The default for the types StreamHub acts on until their handler is registered. */
export const ignoreEvent: PaymentEventHandler = async () => {};

/**
 * What each Stripe event type does: one handler per type (one that serves several purposes,
 * such as `payment_intent.succeeded` for tips and coin packs, dispatches on `event.metadata`).
 * A type with no handler is recorded and marked applied with no effect.
 */
export const stripeEventHandlers = new Map<string, PaymentEventHandler>(STRIPE_EVENT_TYPES.map((type) => [type, ignoreEvent]));

/** Registers the handler of one event type; a second handler for the same type is a mistake. */
export function registerStripeEventHandler(type: string, handler: PaymentEventHandler): void {
  const current = stripeEventHandlers.get(type);
  if (current && current !== ignoreEvent) throw new Error(`Stripe event ${type} has a handler already; dispatch inside that one`);
  stripeEventHandlers.set(type, handler);
}

export type ApplyOutcome = 'applied' | 'unhandled' | 'already_applied';

function toPaymentEvent(row: PaymentEventRow): PaymentEvent {
  const parsed = stripeEventSchema.safeParse(row.payload);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Stored Stripe event ${row.event_id} is not a Stripe event: ${parsed.error.message}`, 'PaymentEventMalformed');
  }
  const object = parsed.data.data.object;
  const metadata = typeof object.metadata === 'object' && object.metadata !== null ? object.metadata : {};
  return {
    provider: 'stripe',
    id: row.event_id,
    type: row.type,
    livemode: row.livemode,
    createdAt: row.provider_created_at,
    receivedAt: row.received_at,
    object,
    metadata: Object.fromEntries(Object.entries(metadata).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    payload: parsed.data,
  };
}

// A worker that dies mid-event is noticed after the activity's heartbeat timeout.
const HEARTBEAT_EVERY_MS = 2000;

export function createPaymentActivities(deps: { db: Db; nats: Nats; stripeEventHandlers?: PaymentEventHandlers }) {
  const handlers = deps.stripeEventHandlers ?? stripeEventHandlers;

  return {
    /** Applies one stored Stripe event through its handler, once however often it is called. */
    async applyStripeEvent(eventId: string): Promise<{ outcome: ApplyOutcome; type: string }> {
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      const afterCommit: (() => Promise<void>)[] = [];
      try {
        const result = await deps.db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom('payment_events')
            .selectAll()
            .where('provider', '=', 'stripe')
            .where('event_id', '=', eventId)
            .forUpdate()
            .executeTakeFirst();
          if (!row) throw ApplicationFailure.nonRetryable(`No stored Stripe event ${eventId}`, 'PaymentEventMissing');
          if (row.applied_at) return { outcome: 'already_applied' as const, type: row.type };
          const handler = handlers.get(row.type) ?? ignoreEvent;
          await handler({ trx, nats: deps.nats, afterCommit: (task) => void afterCommit.push(task) }, toPaymentEvent(row));
          await trx
            .updateTable('payment_events')
            .set({ applied_at: sql<Date>`now()` })
            .where('provider', '=', 'stripe')
            .where('event_id', '=', eventId)
            .execute();
          return { outcome: handler === ignoreEvent ? ('unhandled' as const) : ('applied' as const), type: row.type };
        });
        for (const task of afterCommit) {
          await task().catch((err: unknown) => context.log.warn('after-commit task of a payment event failed', { eventId, error: String(err) }));
        }
        return result;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
