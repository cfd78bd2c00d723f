import { sql, type Kysely } from 'kysely';

// Appeal threads: the appellant and the reviewing moderators exchange messages on an appeal.
// Payout holds keyed by source: `admin` (the finance API) or `case:<caseId>` (a moderation
// decision). A creator is held while any active hold exists; lifting one leaves the others,
// and re-wording one source's hold never touches another's. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('appeal_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'text', (c) => c.notNull().references('moderation_cases.id'))
    // Not a foreign key: the thread, like the case, outlives the account.
    .addColumn('author_id', 'uuid', (c) => c.notNull())
    .addColumn('author_role', 'text', (c) => c.notNull().check(sql`author_role in ('appellant', 'moderator')`))
    .addColumn('body', 'text', (c) => c.notNull().check(sql`length(body) between 1 and 2000`))
    // The client's Idempotency-Key: a retried post is the same message.
    .addColumn('idempotency_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index appeal_messages_case_idx on appeal_messages (case_id, created_at, id)`.execute(db);
  await sql`create unique index appeal_messages_idempotency_key on appeal_messages (case_id, author_id, idempotency_key) where idempotency_key is not null`.execute(db);

  await db.schema.alterTable('payout_holds').addColumn('source', 'text', (c) => c.notNull().defaultTo('admin')).execute();
  // Holds written before sources existed: moderation's carried `moderation:<caseId>` as their reason.
  await sql`update payout_holds set source = 'case:' || substr(reason, 12) where reason like 'moderation:%'`.execute(db);
  await sql`alter table payout_holds add constraint payout_holds_source_check check (source = 'admin' or source ~ '^case:.+')`.execute(db);
  // One active hold per creator and source: two concurrent sets of one source make one hold.
  await sql`create unique index payout_holds_active_source_key on payout_holds (user_id, source) where lifted_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index payout_holds_active_source_key`.execute(db);
  await db.schema.alterTable('payout_holds').dropConstraint('payout_holds_source_check').execute();
  await db.schema.alterTable('payout_holds').dropColumn('source').execute();
  await db.schema.dropTable('appeal_messages').execute();
}
