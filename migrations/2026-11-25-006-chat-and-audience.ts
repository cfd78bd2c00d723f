import { sql, type Kysely } from 'kysely';

// Chat settings and unique viewers of a stream. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('streams')
    .addColumn('chat_slow_mode_seconds', 'integer', (c) => c.notNull().defaultTo(0).check(sql`chat_slow_mode_seconds between 0 and 600`))
    .addColumn('unique_viewers', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Every viewer (user, or device for anonymous viewers) seen while the stream was on air;
  // the primary key makes the gateways' inserts idempotent and the count exact.
  await db.schema
    .createTable('stream_viewers')
    .addColumn('stream_id', 'uuid', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('viewer_key', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('stream_viewers_pkey', ['stream_id', 'viewer_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_viewers').execute();
  await db.schema.alterTable('streams').dropColumn('unique_viewers').dropColumn('chat_slow_mode_seconds').execute();
}
