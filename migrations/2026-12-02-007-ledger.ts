import { sql, type Kysely } from 'kysely';

// The double-entry ledger (TigerBeetle's model in Postgres). Frozen once landed.
//
// The database itself holds the invariants, so no code path (a bug, a script, a psql
// session) can break them:
// - entries and postings are append-only: UPDATE, DELETE and TRUNCATE are refused;
// - every entry balances per currency, checked when its transaction commits;
// - an account's running totals change only through a posting inserted for it, in the same
//   statement that takes the account's row lock, and an account whose flags forbid it can
//   never end up overdrawn;
// - a posting names an existing account in its own currency.
//
// The platform's accounts take a share of every payment and gift, so one row each would
// serialize all money movement on the platform. Those accounts have no limit to check, so
// their running totals are spread over SHARDS rows (ledger_account_shards), picked by backend,
// and summed on read: concurrent entries no longer queue on them.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ledger_accounts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Readable and unique: `<owner id | platform>:<kind>:<currency>`; accounts are created on
    // first use by inserting this code, which makes creation idempotent.
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind ~ '^[a-z_]+$'`))
    .addColumn('owner_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3,8}$'`))
    .addColumn('normal_side', 'text', (c) => c.notNull().check(sql`normal_side in ('debit', 'credit')`))
    .addColumn('debits_must_not_exceed_credits', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('credits_must_not_exceed_debits', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('debits_posted', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`debits_posted >= 0`))
    .addColumn('credits_posted', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`credits_posted >= 0`))
    // Totals kept in ledger_account_shards instead (hot accounts without a limit).
    .addColumn('sharded', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('ledger_accounts_sharded_unlimited', sql`not (sharded and (debits_must_not_exceed_credits or credits_must_not_exceed_debits))`)
    .addCheckConstraint('ledger_accounts_one_limit', sql`not (debits_must_not_exceed_credits and credits_must_not_exceed_debits)`)
    .addCheckConstraint('ledger_accounts_debit_limit', sql`not debits_must_not_exceed_credits or debits_posted <= credits_posted`)
    .addCheckConstraint('ledger_accounts_credit_limit', sql`not credits_must_not_exceed_debits or credits_posted <= debits_posted`)
    .execute();
  await db.schema
    .createTable('ledger_account_shards')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('ledger_accounts.id'))
    .addColumn('shard', 'smallint', (c) => c.notNull().check(sql`shard between 0 and 15`))
    .addColumn('debits_posted', 'bigint', (c) => c.notNull().check(sql`debits_posted >= 0`))
    .addColumn('credits_posted', 'bigint', (c) => c.notNull().check(sql`credits_posted >= 0`))
    .addPrimaryKeyConstraint('ledger_account_shards_pkey', ['account_id', 'shard'])
    .execute();
  await sql`create index ledger_accounts_owner_idx on ledger_accounts (owner_id, kind) where owner_id is not null`.execute(db);

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind ~ '^[a-z_.]+$'`))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('refs', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // The postings' digest: a replay of the key with other postings is a bug, not a replay.
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('reverses', 'uuid', (c) => c.unique().references('ledger_entries.id'))
    .addColumn('effective_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index ledger_entries_created_idx on ledger_entries (created_at desc, id desc)`.execute(db);

  await db.schema
    .createTable('ledger_postings')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('entry_id', 'uuid', (c) => c.notNull().references('ledger_entries.id'))
    .addColumn('account_id', 'uuid', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('debit', 'credit')`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    // The account's balance on its normal side right after this posting (filled by trigger);
    // null on sharded accounts, whose balance only their shards' sum tells.
    .addColumn('balance_after', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // No foreign key to ledger_accounts: its check would share-lock the platform's hot account
  // rows in every transaction. ledger_apply_posting checks the account and its currency, and
  // accounts are never deleted.
  await sql`create index ledger_postings_entry_idx on ledger_postings (entry_id)`.execute(db);
  await sql`create index ledger_postings_account_idx on ledger_postings (account_id, id desc)`.execute(db);

  await sql`
    create function ledger_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger % is append-only: % refused; post a reversing entry instead', tg_table_name, tg_op
        using errcode = 'SHL02';
    end $$`.execute(db);
  for (const table of ['ledger_entries', 'ledger_postings']) {
    await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${sql.table(table)}
      for each row execute function ledger_refuse_change()`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function ledger_refuse_change()`.execute(db);
  }

  // Applies a posting to its account in one UPDATE, which takes the account's row lock, so
  // concurrent postings to one account serialize and the limit is checked on the committed
  // totals (READ COMMITTED re-evaluates the WHERE after waiting for the lock). A sharded
  // account instead adds to the shard of this backend.
  await sql`
    create function ledger_apply_posting() returns trigger language plpgsql as $$
    declare
      account ledger_accounts%rowtype;
      d bigint := case when new.side = 'debit' then new.amount else 0 end;
      c bigint := case when new.side = 'credit' then new.amount else 0 end;
    begin
      update ledger_accounts a
         set debits_posted = a.debits_posted + d, credits_posted = a.credits_posted + c
       where a.id = new.account_id
         and not a.sharded
         and (not a.debits_must_not_exceed_credits or a.debits_posted + d <= a.credits_posted + c)
         and (not a.credits_must_not_exceed_debits or a.credits_posted + c <= a.debits_posted + d)
      returning * into account;
      if found then
        new.balance_after := case when account.normal_side = 'debit'
          then account.debits_posted - account.credits_posted
          else account.credits_posted - account.debits_posted end;
      else
        select * into account from ledger_accounts where id = new.account_id;
        if not found then
          raise exception 'no ledger account %', new.account_id using errcode = 'foreign_key_violation';
        end if;
        if not account.sharded then
          raise exception 'insufficient funds in ledger account %', new.account_id
            using errcode = 'SHL01', detail = new.account_id::text;
        end if;
        insert into ledger_account_shards as s (account_id, shard, debits_posted, credits_posted)
        values (new.account_id, pg_backend_pid() % 16, d, c)
        on conflict (account_id, shard) do update
          set debits_posted = s.debits_posted + excluded.debits_posted, credits_posted = s.credits_posted + excluded.credits_posted;
        new.balance_after := null;
      end if;
      if account.currency <> new.currency then
        raise exception 'ledger account % holds %, not %', new.account_id, account.currency, new.currency using errcode = 'foreign_key_violation';
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger ledger_postings_apply before insert on ledger_postings
    for each row execute function ledger_apply_posting()`.execute(db);

  // Running totals move only inside ledger_apply_posting (trigger depth 2), never by hand.
  await sql`
    create function ledger_guard_totals() returns trigger language plpgsql as $$
    begin
      if (new.debits_posted, new.credits_posted, new.normal_side, new.currency, new.debits_must_not_exceed_credits, new.credits_must_not_exceed_debits, new.sharded, new.code, new.kind, new.owner_id)
         is distinct from (old.debits_posted, old.credits_posted, old.normal_side, old.currency, old.debits_must_not_exceed_credits, old.credits_must_not_exceed_debits, old.sharded, old.code, old.kind, old.owner_id)
         and pg_trigger_depth() < 2 then
        raise exception 'ledger account totals change only by posting' using errcode = 'SHL02';
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger ledger_accounts_guard_totals before update on ledger_accounts
    for each row execute function ledger_guard_totals()`.execute(db);
  await sql`create trigger ledger_accounts_no_delete before delete or truncate on ledger_accounts
    for each statement execute function ledger_refuse_change()`.execute(db);

  // Shards are written only by ledger_apply_posting (its INSERT … ON CONFLICT runs at depth 2).
  await sql`
    create function ledger_guard_shards() returns trigger language plpgsql as $$
    begin
      if pg_trigger_depth() < 2 then
        raise exception 'ledger account totals change only by posting' using errcode = 'SHL02';
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger ledger_account_shards_guard before insert or update on ledger_account_shards
    for each row execute function ledger_guard_shards()`.execute(db);
  await sql`create trigger ledger_account_shards_no_delete before delete or truncate on ledger_account_shards
    for each statement execute function ledger_refuse_change()`.execute(db);

  // At commit: every entry has postings, and they balance per currency. Checked for each new
  // entry and for the entry of each new posting, so a posting added later to an old entry (in
  // another transaction) is refused too.
  await sql`
    create function ledger_assert_entry_balanced(entry uuid) returns void language plpgsql as $$
    declare
      unbalanced text;
      posting_count integer;
    begin
      select count(*) into posting_count from ledger_postings where entry_id = entry;
      if posting_count < 2 then
        raise exception 'ledger entry % has % postings; an entry needs at least two', entry, posting_count using errcode = 'SHL03';
      end if;
      select string_agg(currency, ', ') into unbalanced from (
        select currency from ledger_postings where entry_id = entry group by currency
        having sum(case side when 'debit' then amount else -amount end) <> 0
      ) c;
      if unbalanced is not null then
        raise exception 'ledger entry % does not balance in %', entry, unbalanced using errcode = 'SHL03';
      end if;
    end $$`.execute(db);
  await sql`
    create function ledger_check_entry_balanced() returns trigger language plpgsql as $$
    begin
      perform ledger_assert_entry_balanced(new.id);
      return null;
    end $$`.execute(db);
  await sql`
    create function ledger_check_posting_entry_balanced() returns trigger language plpgsql as $$
    begin
      perform ledger_assert_entry_balanced(new.entry_id);
      return null;
    end $$`.execute(db);
  await sql`create constraint trigger ledger_postings_balanced after insert on ledger_postings
    deferrable initially deferred for each row execute function ledger_check_posting_entry_balanced()`.execute(db);
  await sql`create constraint trigger ledger_entries_balanced after insert on ledger_entries
    deferrable initially deferred for each row execute function ledger_check_entry_balanced()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ledger_postings').execute();
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('ledger_account_shards').execute();
  await db.schema.dropTable('ledger_accounts').execute();
  for (const fn of ['ledger_check_posting_entry_balanced', 'ledger_check_entry_balanced', 'ledger_guard_shards', 'ledger_guard_totals', 'ledger_apply_posting', 'ledger_refuse_change']) {
    await sql`drop function ${sql.raw(fn)}()`.execute(db);
  }
  await sql`drop function ledger_assert_entry_balanced(uuid)`.execute(db);
}
