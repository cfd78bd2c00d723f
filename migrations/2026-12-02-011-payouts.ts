import { sql, type Kysely } from 'kysely';

// Payouts: creators' payout methods, holds that keep a creator out of runs, payout runs (one
// workflow `payout-run/<runId>` each) and their items (one per creator and run). Money itself
// moves only in the ledger; these rows say what the run decided and where each payout stands.
// Frozen once landed.

const ACTIVE_RUN = sql`status in ('selecting', 'awaiting_approval', 'executing', 'settling')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payout_methods')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('stripe', 'bank_transfer')`))
    // pending: Stripe onboarding not finished; verified: payouts can be sent; disabled: Stripe turned payouts off.
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'verified', 'disabled')`))
    .addColumn('stripe_account_id', 'text')
    .addColumn('account_holder', 'text')
    // The IBAN sealed with the payout data key (lib/payouts/secret-box.ts); only its mask is readable.
    .addColumn('iban_sealed', 'text')
    .addColumn('iban_masked', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('payout_methods_details', sql`(kind = 'stripe' and stripe_account_id is not null)
      or (kind = 'bank_transfer' and account_holder is not null and iban_sealed is not null and iban_masked is not null)`)
    .execute();
  await sql`create index payout_methods_stripe_account_idx on payout_methods (stripe_account_id) where stripe_account_id is not null`.execute(db);

  await db.schema
    .createTable('payout_holds')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('set_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'uuid', (c) => c.references('users.id'))
    .execute();
  await sql`create index payout_holds_active_idx on payout_holds (user_id) where lifted_at is null`.execute(db);

  await db.schema
    .createTable('payout_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('minimum_amount', 'bigint', (c) => c.notNull().check(sql`minimum_amount > 0`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('selecting', 'awaiting_approval', 'executing', 'settling', 'completed', 'expired', 'cancelled')`),
    )
    .addColumn('started_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('approved_at', 'timestamptz')
    .addColumn('cancelled_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('approval_deadline', 'timestamptz')
    .addColumn('bank_file_key', 'text')
    .addColumn('report_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addCheckConstraint('payout_runs_four_eyes', sql`approved_by is null or approved_by <> started_by`)
    .execute();
  // One open run per currency: the database refuses a second one, whoever starts it.
  await sql`create unique index payout_runs_one_open_per_currency on payout_runs (currency) where ${ACTIVE_RUN}`.execute(db);
  await sql`create index payout_runs_created_idx on payout_runs (created_at desc, id desc)`.execute(db);

  await db.schema
    .createTable('payout_items')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('run_id', 'uuid', (c) => c.notNull().references('payout_runs.id'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('method', 'text', (c) => c.notNull().check(sql`method in ('stripe', 'bank_transfer')`))
    // reserved → (released | submitted → (paid | failed)); reversing: a Stripe payout failed and
    // its transfer is being taken back before the money returns to the creator.
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('reserved', 'released', 'submitted', 'reversing', 'paid', 'failed')`))
    .addColumn('failure_reason', 'text')
    // The method's details as they were when the run reserved the money (a later change does not redirect it).
    .addColumn('stripe_account_id', 'text')
    .addColumn('account_holder', 'text')
    .addColumn('iban_sealed', 'text')
    .addColumn('iban_masked', 'text')
    .addColumn('stripe_transfer_id', 'text')
    .addColumn('stripe_payout_id', 'text')
    .addColumn('reserve_entry_id', 'uuid', (c) => c.notNull().references('ledger_entries.id'))
    .addColumn('settle_entry_id', 'uuid', (c) => c.references('ledger_entries.id'))
    .addColumn('settled_by', 'text')
    .addColumn('flagged_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('submitted_at', 'timestamptz')
    .addColumn('settled_at', 'timestamptz')
    .addUniqueConstraint('payout_items_run_user_key', ['run_id', 'user_id'])
    .execute();
  await sql`create index payout_items_run_status_idx on payout_items (run_id, status, id)`.execute(db);
  await sql`create index payout_items_user_idx on payout_items (user_id, created_at desc, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['payout_items', 'payout_runs', 'payout_holds', 'payout_methods']) await db.schema.dropTable(table).execute();
}
