import { sql, type Kysely } from 'kysely';

// Review of money in. Frozen once landed.
//
// 1. The ledger: one balance check per entry instead of one per posting. Migration 007 checked, at commit, the entry of every new entry and of every new posting (so
// that a posting added later to an old entry was refused too): a gift's entry and its four
// postings ran the check five times. Now a posting may only be added to an entry written by
// its own transaction, refused at once otherwise (an entry, once committed, is as immutable
// as its postings), so the entry's own deferred check sees every posting it will ever have,
// and the per-posting check goes. The check itself reads the entry's postings once.
//
// 2. Payment events about a payment not known yet (a dispute or refund whose charge we have not
// been told about) wait, parked with the provider ids they name, until an event that makes the
// payment known applies them; they were dropped before.
//
// 3. A payment remembers when its PaymentIntent was first asked for: Stripe forgets an
// idempotency key after 24 hours, so a PaymentIntent that may exist already is never asked for
// again under a key that Stripe may have forgotten (a second one could charge the payer twice).

/**
 * Whether a transaction id is this transaction's or one of its subtransactions'. Called only
 * for rows this transaction can see: a visible row whose inserter is still in progress can
 * only be ours. A subtransaction's id is always later than its parent's. An id that maps to
 * none seen yet (a frozen or wrapped-around old one) is not ours.
 */
const xidIsCurrent = sql`
  create function ledger_xid_is_current(x xid) returns boolean language plpgsql as $$
  declare
    top bigint := pg_current_xact_id()::text::bigint;
    delta bigint := (x::text::bigint - top % 4294967296 + 4294967296) % 4294967296;
  begin
    if delta = 0 then return true; end if;
    if delta >= 2147483648 then return false; end if;
    -- Rare (an entry written in a savepoint): the block's own subtransaction is paid only here.
    begin
      return pg_xact_status((top + delta)::text::xid8) = 'in progress';
    exception when invalid_parameter_value then
      return false;
    end;
  end $$`;

const assertBalanced = sql`
  create or replace function ledger_assert_entry_balanced(entry uuid) returns void language plpgsql as $$
  declare
    posting_count bigint;
    unbalanced text;
  begin
    select coalesce(sum(n), 0), string_agg(currency, ', ') filter (where net <> 0) into posting_count, unbalanced
    from (
      select currency, count(*) as n, sum(case side when 'debit' then amount else -amount end) as net
      from ledger_postings where entry_id = entry group by currency
    ) c;
    if posting_count < 2 then
      raise exception 'ledger entry % has % postings; an entry needs at least two', entry, posting_count using errcode = 'SHL03';
    end if;
    if unbalanced is not null then
      raise exception 'ledger entry % does not balance in %', entry, unbalanced using errcode = 'SHL03';
    end if;
  end $$`;

/** 007's ledger_apply_posting, with `entry_check` run first. */
const applyPosting = (entryCheck: ReturnType<typeof sql.raw>) => sql`
  create or replace function ledger_apply_posting() returns trigger language plpgsql as $$
  declare
    account ledger_accounts%rowtype;
    d bigint := case when new.side = 'debit' then new.amount else 0 end;
    c bigint := case when new.side = 'credit' then new.amount else 0 end;
    entry_xmin xid;
  begin
    ${entryCheck}
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
  end $$`;

// An entry that does not exist is left to the posting's foreign key (23503), as before.
const entryWrittenByThisTransaction = sql.raw(`
    select e.xmin into entry_xmin from ledger_entries e where e.id = new.entry_id;
    if found and not ledger_xid_is_current(entry_xmin) then
      raise exception 'ledger entry % was committed before; a posting is written with its entry, never added later', new.entry_id
        using errcode = 'SHL03';
    end if;`);

export async function up(db: Kysely<any>): Promise<void> {
  await xidIsCurrent.execute(db);
  await assertBalanced.execute(db);
  await applyPosting(entryWrittenByThisTransaction).execute(db);
  await sql`drop trigger ledger_postings_balanced on ledger_postings`.execute(db);
  await sql`drop function ledger_check_posting_entry_balanced()`.execute(db);

  await db.schema
    .alterTable('payment_events')
    // Set while the event waits for its payment to be known; applied_at stays null until then.
    .addColumn('parked_at', 'timestamptz')
    .addColumn('waiting_for_charge_id', 'text')
    .addColumn('waiting_for_payment_intent_id', 'text')
    .execute();
  await sql`create index payment_events_waiting_charge_idx on payment_events (waiting_for_charge_id) where parked_at is not null and applied_at is null`.execute(db);
  await sql`create index payment_events_waiting_intent_idx on payment_events (waiting_for_payment_intent_id) where parked_at is not null and applied_at is null`.execute(db);

  await db.schema.alterTable('payments').addColumn('intent_requested_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payments').dropColumn('intent_requested_at').execute();
  await db.schema.alterTable('payment_events').dropColumn('parked_at').dropColumn('waiting_for_charge_id').dropColumn('waiting_for_payment_intent_id').execute();
  await sql`
    create function ledger_check_posting_entry_balanced() returns trigger language plpgsql as $$
    begin
      perform ledger_assert_entry_balanced(new.entry_id);
      return null;
    end $$`.execute(db);
  await sql`create constraint trigger ledger_postings_balanced after insert on ledger_postings
    deferrable initially deferred for each row execute function ledger_check_posting_entry_balanced()`.execute(db);
  await applyPosting(sql.raw('')).execute(db);
  await sql`
    create or replace function ledger_assert_entry_balanced(entry uuid) returns void language plpgsql as $$
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
  await sql`drop function ledger_xid_is_current(xid)`.execute(db);
}
