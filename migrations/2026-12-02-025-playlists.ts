import { sql, type Kysely } from 'kysely';

// Ordered playlists (api/playlists). An item's place is a fractional index key
// (lib/playlist-order.ts): a move rewrites one row, never renumbers the others. Keys compare
// byte by byte, so the column is collated "C" (a locale collation would order "a" and "B"
// differently from the key generator). Each user has at most one built-in "watch later"
// playlist (kind 'watch_later'), created on first use. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('playlists')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('regular').check(sql`kind in ('regular', 'watch_later')`))
    .addColumn('title', 'text', (c) => c.notNull().check(sql`char_length(title) between 1 and 150`))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo('').check(sql`char_length(description) <= 5000`))
    .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private').check(sql`visibility in ('public', 'unlisted', 'private')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('playlists_watch_later_private', sql`kind <> 'watch_later' or visibility = 'private'`)
    .execute();
  // A user's playlists, newest first (their list, and the per-user limit's count).
  await db.schema.createIndex('playlists_owner_created_idx').on('playlists').columns(['owner_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('playlists_one_watch_later').on('playlists').column('owner_id').unique().where(sql.ref('kind'), '=', 'watch_later').execute();

  await db.schema
    .createTable('playlist_items')
    .addColumn('playlist_id', 'uuid', (c) => c.notNull().references('playlists.id').onDelete('cascade'))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('position', sql`text collate "C"`, (c) => c.notNull().check(sql`char_length(position) between 1 and 1000`))
    .addColumn('added_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A video at most once per playlist.
    .addPrimaryKeyConstraint('playlist_items_pkey', ['playlist_id', 'video_id'])
    .execute();
  // Play order, and the backstop against two writers picking the same key. Checked at the
  // end of each statement (deferrable), so one statement may respace a whole playlist.
  await sql`alter table playlist_items add constraint playlist_items_position_key unique (playlist_id, position) deferrable initially immediate`.execute(db);
  // What a video's deletion cascades through.
  await db.schema.createIndex('playlist_items_video_idx').on('playlist_items').column('video_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('playlist_items').execute();
  await db.schema.dropTable('playlists').execute();
}
