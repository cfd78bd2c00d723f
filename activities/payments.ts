import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db, Tx } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import type { WorkflowStarter } from '../lib/notifications.ts';
import { STRIPE_EVENT_TYPES, stripeEventSchema, type StripeEventEnvelope } from '../lib/payments/stripe-events.ts';
import type { PaymentEventRow } from '../lib/schema.ts';
import { activityTemporal } from './activity-temporal.ts';

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
   * Starts workflows an applied event leads to (a gift's distribution, a tip's mail) inside the
   * transaction, by ids a retry repeats: a failed start rolls the event back, never loses them.
   */
  temporal: WorkflowStarter;
  /**
   * Runs `task` once the transaction committed, on the attempt that applied the event: at
   * most once (a crash right after the commit skips it), so for pushes and frames, never money.
   */
  afterCommit(task: () => Promise<void>): void;
  /**
   * Applies, in this transaction, the parked events that wait for these provider ids (an event
   * that made a payment known calls it). Each goes through its own handler, which may park it again.
   */
  applyWaiting(ids: ProviderIds): Promise<void>;
}

/** The provider's ids an event names that we could not match yet. */
export interface ProviderIds {
  chargeId?: string | null;
  paymentIntentId?: string | null;
}

/**
 * What a handler answers: nothing (applied), or `{ waitFor }` when the event is about a payment
 * we do not know yet; it is then parked, not applied, until an event that makes the payment
 * known applies it (PaymentEventContext.applyWaiting).
 */
export type PaymentEventHandler = (ctx: PaymentEventContext, event: PaymentEvent) => Promise<void | { waitFor: ProviderIds }>;
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

export type ApplyOutcome = 'applied' | 'unhandled' | 'already_applied' | 'parked';

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

  /** Runs an event's handler and records the result: applied, or parked waiting for ids. True when parked. */
  async function settle(ctx: PaymentEventContext, row: PaymentEventRow, handler: PaymentEventHandler): Promise<boolean> {
    const result = await handler(ctx, toPaymentEvent(row));
    const waitFor = result?.waitFor;
    await ctx.trx
      .updateTable('payment_events')
      .set(
        waitFor
          ? { parked_at: sql<Date>`coalesce(parked_at, now())`, waiting_for_charge_id: waitFor.chargeId ?? null, waiting_for_payment_intent_id: waitFor.paymentIntentId ?? null }
          : { applied_at: sql<Date>`now()` },
      )
      .where('provider', '=', 'stripe')
      .where('event_id', '=', row.event_id)
      .execute();
    return Boolean(waitFor);
  }

  /** The parked events waiting for these ids, oldest first, each applied once per transaction at most. */
  async function applyWaiting(ctx: PaymentEventContext, applying: Set<string>, ids: ProviderIds): Promise<void> {
    if (!ids.chargeId && !ids.paymentIntentId) return;
    const waiting = await ctx.trx
      .selectFrom('payment_events')
      .selectAll()
      .where('provider', '=', 'stripe')
      .where('applied_at', 'is', null)
      .where('parked_at', 'is not', null)
      .where((eb) =>
        eb.or([
          ...(ids.chargeId ? [eb('waiting_for_charge_id', '=', ids.chargeId)] : []),
          ...(ids.paymentIntentId ? [eb('waiting_for_payment_intent_id', '=', ids.paymentIntentId)] : []),
        ]),
      )
      .orderBy('provider_created_at')
      .orderBy('event_id')
      .forUpdate()
      .execute();
    for (const row of waiting) {
      if (applying.has(row.event_id)) continue;
      applying.add(row.event_id);
      await settle(ctx, row, handlers.get(row.type) ?? ignoreEvent);
    }
  }

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
          if (row.parked_at) return { outcome: 'parked' as const, type: row.type };
          const handler = handlers.get(row.type) ?? ignoreEvent;
          const applying = new Set([eventId]);
          const ctx: PaymentEventContext = {
            trx,
            nats: deps.nats,
            temporal: activityTemporal(),
            afterCommit: (task) => void afterCommit.push(task),
            applyWaiting: (ids) => applyWaiting(ctx, applying, ids),
          };
          const parked = await settle(ctx, row, handler);
          if (parked) return { outcome: 'parked' as const, type: row.type };
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
