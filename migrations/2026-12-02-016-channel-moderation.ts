import { sql, type Kysely } from 'kysely';

// Channel-level moderation: a creator's channel moderators, and the chat timeouts and bans of
// their channel. Restrictions are an append-only log of facts (timeout, ban, lift, and the
// appointments): the state in force is the latest restriction fact per (channel, user), and
// lifting one is a new fact, never a delete. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('channel_moderators')
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('channel_moderators_pkey', ['owner_id', 'user_id'])
    .addCheckConstraint('channel_moderators_not_owner', sql`owner_id <> user_id`)
    .execute();
  await sql`create index channel_moderators_user_idx on channel_moderators (user_id)`.execute(db);

  await db.schema
    .createTable('channel_moderation_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // Not foreign keys: the log outlives the accounts it names, and keeps their names as they were.
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    .addColumn('target_id', 'uuid', (c) => c.notNull())
    .addColumn('target_name', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'uuid', (c) => c.notNull())
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('moderator_added', 'moderator_removed', 'timeout', 'ban', 'lift')`))
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo('').check(sql`length(reason) <= 500`))
    .addColumn('duration_seconds', 'integer')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('channel_moderation_log_timeout_ends', sql`(action = 'timeout') = (expires_at is not null and duration_seconds is not null)`)
    .execute();
  // The latest restriction fact of a user in a channel, and the channel's log newest first.
  await sql`create index channel_moderation_log_target_idx on channel_moderation_log (owner_id, target_id, id desc) where action in ('timeout', 'ban', 'lift')`.execute(db);
  await sql`create index channel_moderation_log_owner_idx on channel_moderation_log (owner_id, id desc)`.execute(db);
  await sql`
    create function channel_moderation_log_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'channel_moderation_log is append-only: % refused', tg_op using errcode = 'SHM02';
    end $$`.execute(db);
  await sql`create trigger channel_moderation_log_append_only before update or delete on channel_moderation_log
    for each row execute function channel_moderation_log_refuse_change()`.execute(db);
  await sql`create trigger channel_moderation_log_no_truncate before truncate on channel_moderation_log
    for each statement execute function channel_moderation_log_refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('channel_moderation_log').execute();
  await db.schema.dropTable('channel_moderators').execute();
  await sql`drop function channel_moderation_log_refuse_change()`.execute(db);
}
