import { sql, type Kysely } from 'kysely';

// Moderation review: reports on a target merge into one case (`moderation/<caseId>`), an
// append-only audit log per case (who, when, what, why, prior state), strikes that expire,
// appeals, and a hidden flag on videos. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('moderation_cases')
    // `<targetType>-<targetId>-<n>` (workflows/plans/moderation.ts): readable in the Temporal UI.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('target_type', 'text', (c) => c.notNull().check(sql`target_type in ('stream', 'video', 'chat_message', 'user')`))
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull().check(sql`sequence > 0`))
    // Not a foreign key: the case and its evidence outlive the account.
    .addColumn('target_owner_id', 'uuid')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'claimed', 'decided', 'appealed', 'closed')`))
    .addColumn('priority', 'text', (c) => c.notNull().check(sql`priority in ('urgent', 'high', 'normal')`))
    .addColumn('priority_rank', 'smallint', (c) => c.notNull())
    .addColumn('report_count', 'integer', (c) => c.notNull().defaultTo(0))
    // What the target looked like when it was reported: kept as evidence if the owner deletes it.
    .addColumn('snapshot', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('claimed_by', 'uuid')
    .addColumn('claim_expires_at', 'timestamptz')
    .addColumn('decision', 'jsonb')
    .addColumn('decided_by', 'uuid')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('sla_due_at', 'timestamptz')
    .addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addUniqueConstraint('moderation_cases_target_sequence_key', ['target_type', 'target_id', 'sequence'])
    .execute();
  // The review queue: most urgent, then oldest first (keyset on rank, created_at, id).
  await sql`create index moderation_cases_queue_idx on moderation_cases (priority_rank, created_at, id) where status <> 'closed'`.execute(db);
  await sql`create index moderation_cases_status_idx on moderation_cases (status, priority_rank, created_at, id)`.execute(db);

  await db.schema
    .createTable('reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'text', (c) => c.notNull().references('moderation_cases.id'))
    .addColumn('reporter_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('timestamp_seconds', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // One report per reporter and case: a retried or repeated report is the same report.
    .addUniqueConstraint('reports_case_reporter_key', ['case_id', 'reporter_id'])
    .execute();
  await sql`create index reports_reporter_idx on reports (reporter_id)`.execute(db);

  await db.schema
    .createTable('moderation_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('moderation_cases.id'))
    // Actor id and a human name: the log still reads right after the account is gone.
    .addColumn('actor_id', 'uuid')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('prior', 'jsonb')
    // A retried activity appends its row once.
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index moderation_audit_case_idx on moderation_audit (case_id, id)`.execute(db);
  await sql`
    create function moderation_audit_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'moderation_audit is append-only: % refused', tg_op using errcode = 'SHM01';
    end $$`.execute(db);
  await sql`create trigger moderation_audit_append_only before update or delete on moderation_audit
    for each row execute function moderation_audit_refuse_change()`.execute(db);
  await sql`create trigger moderation_audit_no_truncate before truncate on moderation_audit
    for each statement execute function moderation_audit_refuse_change()`.execute(db);

  await db.schema
    .createTable('strikes')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('case_id', 'text', (c) => c.notNull().unique().references('moderation_cases.id'))
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expired_at', 'timestamptz')
    // Overruled by an appeal: kept, never deleted.
    .addColumn('removed_at', 'timestamptz')
    .execute();
  await sql`create index strikes_active_idx on strikes (user_id) where expired_at is null and removed_at is null`.execute(db);

  await db.schema
    .createTable('appeals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'text', (c) => c.notNull().unique().references('moderation_cases.id'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_by', 'uuid')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('upheld', 'boolean')
    .addColumn('note', 'text')
    .execute();

  await db.schema.alterTable('videos').addColumn('moderation_hidden_at', 'timestamptz').execute();
  // A broadcast ended by a moderation decision: its recording becomes a hidden VOD, announced to nobody.
  await db.schema.alterTable('streams').addColumn('moderation_ended_at', 'timestamptz').execute();

  // Watched words: the platform's list (admins) with a level, and each channel's own blocked terms.
  await db.schema
    .createTable('watched_words')
    .addColumn('term', 'text', (c) => c.primaryKey().check(sql`length(term) between 1 and 100`))
    .addColumn('level', 'text', (c) => c.notNull().check(sql`level in ('hold', 'block')`))
    .addColumn('created_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('channel_blocked_terms')
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('term', 'text', (c) => c.notNull().check(sql`length(term) between 1 and 100`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('channel_blocked_terms_pkey', ['owner_id', 'term'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('streams').dropColumn('moderation_ended_at').execute();
  await db.schema.alterTable('videos').dropColumn('moderation_hidden_at').execute();
  for (const table of ['channel_blocked_terms', 'watched_words', 'appeals', 'strikes', 'moderation_audit', 'reports', 'moderation_cases']) await db.schema.dropTable(table).execute();
  await sql`drop function moderation_audit_refuse_change()`.execute(db);
}
