import { sql } from 'kysely';
import type { Db, Tx } from '../db.ts';
import { AppError } from '../errors.ts';

// Payout holds keep a creator out of payout runs (lib/payouts/store.ts reserveBatch skips
// anyone with an active hold). Each hold has a source: `admin` (the finance API) or
// `case:<caseId>` (a moderation decision, set and lifted by its case inside its own
// transaction). A creator has at most one active hold per source: setting it again re-words
// that one; lifting it leaves the other sources' holds, and the creator stays held while any
// is active. A hold does not touch a reservation already made: the run's approver excludes
// that creator instead.

/** Who owns a hold: the finance API's admins, or one moderation case. */
export type HoldSource = 'admin' | `case:${string}`;

export const caseHoldSource = (caseId: string): HoldSource => `case:${caseId}`;

export interface PayoutHold {
  id: string;
  userId: string;
  reason: string;
  source: string;
  setBy: string | null;
  createdAt: Date;
}

const MAX_REASON = 500;

/** Runs `work` in the caller's transaction, or in a new one. */
function inTransaction<T>(executor: Db | Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  return executor.isTransaction ? work(executor as Tx) : executor.transaction().execute(work);
}

const toHold = (r: { id: string; user_id: string; reason: string; source: string; set_by: string | null; created_at: Date }): PayoutHold => ({
  id: r.id,
  userId: r.user_id,
  reason: r.reason,
  source: r.source,
  setBy: r.set_by,
  createdAt: r.created_at,
});

/**
 * Puts a creator on payout hold from `source` (default `admin`), or re-words that source's
 * active hold. `setBy` is the admin (or moderator) responsible; null for the system. Throws
 * not_found for an unknown user.
 */
export async function setPayoutHold(
  executor: Db | Tx,
  input: { userId: string; reason: string; setBy: string | null; source?: HoldSource },
): Promise<{ hold: PayoutHold; created: boolean }> {
  const source = input.source ?? 'admin';
  const reason = input.reason.trim().slice(0, MAX_REASON);
  if (!reason) throw new AppError('validation_failed', 'A payout hold needs a reason', [{ field: 'reason', message: 'required' }]);
  return inTransaction(executor, async (tx) => {
    // The user's row serialises holds on them: two concurrent sets make one hold.
    const user = await tx.selectFrom('users').select('id').where('id', '=', input.userId).forUpdate().executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user');
    const active = await tx.selectFrom('payout_holds').selectAll().where('user_id', '=', input.userId).where('source', '=', source).where('lifted_at', 'is', null).executeTakeFirst();
    if (active) {
      const updated = await tx.updateTable('payout_holds').set({ reason, set_by: input.setBy }).where('id', '=', active.id).returningAll().executeTakeFirstOrThrow();
      return { hold: toHold(updated), created: false };
    }
    const created = await tx.insertInto('payout_holds').values({ user_id: input.userId, reason, source, set_by: input.setBy }).returningAll().executeTakeFirstOrThrow();
    return { hold: toHold(created), created: true };
  });
}

/** Lifts the creator's active hold from `source` (default `admin`), leaving other sources' holds; false when there was none. */
export async function liftPayoutHold(executor: Db | Tx, input: { userId: string; liftedBy: string | null; source?: HoldSource }): Promise<boolean> {
  const res = await executor
    .updateTable('payout_holds')
    .set({ lifted_at: sql<Date>`now()`, lifted_by: input.liftedBy })
    .where('user_id', '=', input.userId)
    .where('source', '=', input.source ?? 'admin')
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** The creator's active holds, oldest first (every source). */
export async function activePayoutHolds(executor: Db | Tx, userId: string): Promise<PayoutHold[]> {
  const rows = await executor.selectFrom('payout_holds').selectAll().where('user_id', '=', userId).where('lifted_at', 'is', null).orderBy('created_at').orderBy('id').execute();
  return rows.map(toHold);
}

/** Active holds, newest first, by keyset (created_at, id). */
export async function listPayoutHolds(executor: Db | Tx, input: { before?: { at: string; id: string }; limit: number }): Promise<(PayoutHold & { createdKey: string })[]> {
  let query = executor
    .selectFrom('payout_holds')
    .selectAll()
    .select(sql<string>`created_at::text`.as('created_key'))
    .where('lifted_at', 'is', null);
  if (input.before) query = query.where(sql<boolean>`(created_at, id) < (${input.before.at}::timestamptz, ${input.before.id}::uuid)`);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(input.limit).execute();
  return rows.map((r) => ({ ...toHold(r), createdKey: r.created_key }));
}
