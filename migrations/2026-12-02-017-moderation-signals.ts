import { sql, type Kysely } from 'kysely';

// Automatic moderation signals (watched words in chat, stream and video titles) kept as an
// outbox until their case workflow has them; interim measures and age restriction on videos
// and streams; a policy reason and a score on each platform watched word. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('moderation_signals')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('moderation_cases.id'))
    // e.g. `watched_words:chat`, `watched_words:title`
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('score', 'smallint', (c) => c.notNull().check(sql`score between 1 and 100`))
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // The case input the relay starts the workflow with (target live when the signal came).
    .addColumn('live_target', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Null until `signalWithStart` succeeded: the relay's outbox.
    .addColumn('delivered_at', 'timestamptz')
    .execute();
  await sql`create index moderation_signals_undelivered_idx on moderation_signals (id) where delivered_at is null`.execute(db);
  await sql`create index moderation_signals_case_idx on moderation_signals (case_id, id)`.execute(db);
  await db.schema.alterTable('moderation_cases').addColumn('signal_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  // A held chat message never reaches JetStream, so it has no message id there: it gets one of
  // these, and its case's target id is `<streamId>.h<n>`.
  await sql`create sequence held_chat_messages_seq`.execute(db);

  await db.schema.alterTable('watched_words').addColumn('reason', 'text', (c) => c.notNull().defaultTo('other')).execute();
  await db.schema.alterTable('watched_words').addColumn('score', 'smallint', (c) => c.notNull().defaultTo(50).check(sql`score between 1 and 100`)).execute();

  // Set by an `age_restrict` decision or an interim measure; cleared by a dismissal or an upheld appeal.
  await db.schema.alterTable('videos').addColumn('age_restricted_at', 'timestamptz').execute();
  await db.schema.alterTable('streams').addColumn('age_restricted_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('streams').dropColumn('age_restricted_at').execute();
  await db.schema.alterTable('videos').dropColumn('age_restricted_at').execute();
  await db.schema.alterTable('watched_words').dropColumn('score').execute();
  await db.schema.alterTable('watched_words').dropColumn('reason').execute();
  await sql`drop sequence held_chat_messages_seq`.execute(db);
  await db.schema.alterTable('moderation_cases').dropColumn('signal_count').execute();
  await db.schema.dropTable('moderation_signals').execute();
}
