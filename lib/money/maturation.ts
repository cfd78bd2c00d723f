import { sql } from 'kysely';
import type { Db, Tx } from '../db.ts';
import { accountCode, userAccount } from '../ledger/chart.ts';
import { lockAccounts, postEntry } from '../ledger/store.ts';
import { maturationLines } from './rules.ts';

// Pending earnings become available once their hold has passed. Each run moves, per creator,
// what was credited to pending up to the cutoff less everything taken out of pending since
// (earlier maturations, refunds), computed under the pending account's lock: so runs that
// overlap, repeat or crash half-way can never move the same money twice.

/** Creators whose pending earnings in `currency` are above zero, by id (keyset). */
export async function creatorsWithPendingEarnings(db: Db, currency: string, page: { afterCreatorId?: string; limit: number }): Promise<string[]> {
  let query = db
    .selectFrom('ledger_accounts')
    .select('owner_id')
    .where('kind', '=', 'earnings_pending')
    .where('currency', '=', currency)
    .where(sql<boolean>`credits_posted > debits_posted`);
  if (page.afterCreatorId) query = query.where('owner_id', '>', page.afterCreatorId);
  const rows = await query.orderBy('owner_id').limit(page.limit).execute();
  return rows.map((r) => r.owner_id!);
}

/** What of a creator's pending earnings has matured by `cutoff` and not yet moved (0 when nothing). */
async function maturedAmount(executor: Db | Tx, pendingAccountId: string, cutoff: Date): Promise<bigint> {
  const { rows } = await sql<{ amount: string }>`
    select (coalesce(sum(p.amount) filter (where p.side = 'credit' and e.effective_at <= ${cutoff}), 0)
          - coalesce(sum(p.amount) filter (where p.side = 'debit'), 0))::text as amount
    from ledger_postings p join ledger_entries e on e.id = p.entry_id
    where p.account_id = ${pendingAccountId}`.execute(executor);
  return BigInt(rows[0]!.amount);
}

/** Moves a creator's matured pending earnings to available; returns the amount moved. */
export async function matureCreatorEarnings(db: Db, input: { creatorId: string; currency: string; cutoff: Date }): Promise<bigint> {
  const pending = userAccount('earnings_pending', input.creatorId, input.currency);
  const available = userAccount('earnings_available', input.creatorId, input.currency);
  const idempotencyKey = `mature/${input.creatorId}/${input.currency}/${input.cutoff.toISOString()}`;
  return db.transaction().execute(async (tx) => {
    await lockAccounts(tx, [pending, available]);
    const done = await tx.selectFrom('ledger_entries').select('id').where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    if (done) return 0n;
    const account = await tx.selectFrom('ledger_accounts').select('id').where('code', '=', accountCode(pending)).executeTakeFirstOrThrow();
    const amount = await maturedAmount(tx, account.id, input.cutoff);
    if (amount <= 0n) return 0n;
    await postEntry(tx, {
      idempotencyKey,
      kind: 'earnings.matured',
      description: `Earnings credited up to ${input.cutoff.toISOString()} are available`,
      refs: { creatorId: input.creatorId, cutoff: input.cutoff.toISOString() },
      lines: maturationLines(input.creatorId, amount, input.currency),
    });
    return amount;
  });
}
