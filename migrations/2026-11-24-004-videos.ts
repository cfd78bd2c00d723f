import { sql, type Kysely } from 'kysely';

// Videos: uploads and (later) live recordings, with the transcode's outcome. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('videos')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('public').check(sql`visibility in ('public', 'unlisted', 'private')`))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('upload', 'recording')`))
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('source_size_bytes', 'bigint')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('uploading').check(sql`status in ('uploading', 'processing', 'ready', 'failed')`),
    )
    .addColumn('progress', 'smallint', (c) => c.notNull().defaultTo(0).check(sql`progress between 0 and 100`))
    .addColumn('failure_reason', 'text')
    .addColumn('transcode_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_seconds', 'double precision')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('renditions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('master_playlist_key', 'text')
    .addColumn('poster_key', 'text')
    .addColumn('storyboard_key', 'text')
    // A client that retries `POST /videos` with the same key gets the same video back.
    .addColumn('idempotency_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ready_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await sql`create unique index videos_owner_idempotency_key on videos (owner_id, idempotency_key) where idempotency_key is not null`.execute(db);
  await db.schema.createIndex('videos_owner_created_idx').on('videos').columns(['owner_id', 'created_at desc', 'id desc']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('videos').execute();
}
