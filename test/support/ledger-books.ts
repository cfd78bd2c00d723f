import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../../lib/db.ts';
import { auditAccounts, trialBalance } from '../../lib/ledger/index.ts';

/** The books are whole: every currency sums to zero, every account equals its postings, no limited account is overdrawn. */
export async function expectWholeBooks(db: Db): Promise<void> {
  for (const line of await trialBalance(db)) expect(line.difference, line.currency).toBe(0n);
  expect(await auditAccounts(db)).toEqual([]);
  const overdrawn = await sql<{ code: string }>`select code from ledger_accounts
    where (debits_must_not_exceed_credits and debits_posted > credits_posted)
       or (credits_must_not_exceed_debits and credits_posted > debits_posted)`.execute(db);
  expect(overdrawn.rows).toEqual([]);
}
