import { sql, type Kysely } from 'kysely';

// Stripe payout events (`payout.paid`, `payout.failed`) whose payout or connected account is not
// the one the item they name was paid with: never applied, kept here for finance to look at.
// And payouts returned after they were paid (a bank's return): item status `returned`, with the
// compensating ledger entry that gave the creator the money back. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payout_event_mismatches')
    .addColumn('provider', 'text', (c) => c.notNull().check(sql`provider in ('stripe')`))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // What the event's metadata named; not foreign keys, a forged event may name anything.
    .addColumn('item_id', 'uuid')
    .addColumn('run_id', 'uuid')
    .addColumn('event_payout_id', 'text')
    .addColumn('event_account_id', 'text')
    .addColumn('stored_payout_id', 'text')
    .addColumn('stored_account_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('payout_event_mismatches_pkey', ['provider', 'event_id'])
    .execute();
  await sql`create index payout_event_mismatches_run_idx on payout_event_mismatches (run_id, created_at)`.execute(db);

  await sql`alter table payout_items drop constraint payout_items_status_check`.execute(db);
  await sql`alter table payout_items add constraint payout_items_status_check
    check (status in ('reserved', 'released', 'submitted', 'reversing', 'paid', 'failed', 'returned'))`.execute(db);
  await db.schema.alterTable('payout_items').addColumn('return_entry_id', 'uuid', (c) => c.references('ledger_entries.id')).execute();
  await db.schema.alterTable('payout_items').addColumn('returned_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payout_items').dropColumn('returned_at').dropColumn('return_entry_id').execute();
  await sql`alter table payout_items drop constraint payout_items_status_check`.execute(db);
  await sql`alter table payout_items add constraint payout_items_status_check
    check (status in ('reserved', 'released', 'submitted', 'reversing', 'paid', 'failed'))`.execute(db);
  await db.schema.dropTable('payout_event_mismatches').execute();
}
