import { sql } from 'kysely';
import type { PaymentEvent, PaymentEventHandler } from '../../activities/payments.ts';
import type { Db } from '../../lib/db.ts';

// A stand-in for the money handlers (tips, coin purchases) that tests register in place of
// the real ones: one row per application, in the event's own transaction. The table has no
// unique key on purpose, so a second application would show as a second row.

/**
 * The type the worker-kill test sends: one StreamHub has no handler of its own for, so the
 * preload's handler is the only one (the worker registers the real money handlers at start).
 */
export const KILLED_MID_EVENT_TYPE = 'charge.updated';

export async function createEffectsTable(db: Db): Promise<void> {
  await sql`create table if not exists test_payment_effects (event_id text not null, applied_by text not null, applied_at timestamptz not null default now())`.execute(db);
}

export async function effectsOf(db: Db, eventId: string): Promise<{ applied_by: string }[]> {
  const { rows } = await sql<{ applied_by: string }>`select applied_by from test_payment_effects where event_id = ${eventId}`.execute(db);
  return rows;
}

/** Writes the effect row through the event's transaction, then runs `whileApplying` before the commit. */
export function recordingHandler(options: { appliedBy: string; whileApplying?: (event: PaymentEvent) => Promise<void> }): PaymentEventHandler {
  return async ({ trx }, event) => {
    await sql`insert into test_payment_effects (event_id, applied_by) values (${event.id}, ${options.appliedBy})`.execute(trx);
    await options.whileApplying?.(event);
  };
}
