import { sql, type Kysely } from 'kysely';

// Live streams and their RTMP sessions. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('streams')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('category_id', 'uuid', (c) => c.references('categories.id').onDelete('set null'))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('public').check(sql`visibility in ('public', 'unlisted')`))
    .addColumn('mature', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('chat_mode', 'text', (c) => c.notNull().defaultTo('everyone').check(sql`chat_mode in ('everyone', 'followers')`))
    .addColumn('scheduled_at', 'timestamptz')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('idle', 'scheduled', 'live', 'reconnecting', 'ended', 'cancelled')`),
    )
    .addColumn('reconnect_window_seconds', 'integer', (c) => c.notNull().defaultTo(60).check(sql`reconnect_window_seconds between 0 and 1800`))
    // Only the SHA-256 of the key is kept; the prefix lets an owner tell keys apart.
    .addColumn('stream_key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('stream_key_prefix', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('current_viewers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('peak_viewers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('vod_video_id', 'uuid', (c) => c.references('videos.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Live first, then newest: the home page list.
  await sql`create index streams_listing_idx on streams ((status in ('live', 'reconnecting')) desc, created_at desc, id desc)`.execute(db);
  await db.schema.createIndex('streams_owner_idx').on('streams').columns(['owner_id', 'created_at desc']).execute();

  await db.schema
    .createTable('stream_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('stream_id', 'uuid', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_addr', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('end_reason', 'text')
    .execute();
  // One publisher at a time per stream, enforced by the database.
  await sql`create unique index stream_sessions_one_live on stream_sessions (stream_id) where ended_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_sessions').execute();
  await db.schema.dropTable('streams').execute();
}
