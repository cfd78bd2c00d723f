import { sql, type Kysely } from 'kysely';

// Counted views and watch history (README, "Views, watch history and resume").
// - video_viewers: when each (video, viewer) last had a view counted; the heartbeat's
//   conditional upsert on it is what lets a view count at most once per window, however many
//   heartbeats race (the row lock serializes them).
// - video_views: one row per counted view, inserted in the same statement; the rollup folds
//   rows not yet `rolled_up` into videos.view_count and flips them in one statement, so the
//   counter plus the pending rows is always exactly the number of rows.
// - watch_history: a signed-in viewer's last position per video (history and resume).
// Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('video_viewers')
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('viewer', 'text', (c) => c.notNull().check(sql`length(viewer) <= 100`))
    .addColumn('last_counted_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('video_viewers_pkey', ['video_id', 'viewer'])
    .execute();
  // The rollup's purge of viewers whose window has passed.
  await db.schema.createIndex('video_viewers_last_counted_idx').on('video_viewers').column('last_counted_at').execute();

  await db.schema
    .createTable('video_views')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('viewer', 'text', (c) => c.notNull())
    .addColumn('viewed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('rolled_up', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  // Both partial: they hold only the pending rows, a minute's worth at most.
  await db.schema.createIndex('video_views_pending_video_idx').on('video_views').column('video_id').where(sql.ref('rolled_up'), '=', false).execute();
  await db.schema.createIndex('video_views_pending_idx').on('video_views').column('id').where(sql.ref('rolled_up'), '=', false).execute();
  // Per-video views over time (analytics, trending).
  await db.schema.createIndex('video_views_video_viewed_idx').on('video_views').columns(['video_id', 'viewed_at']).execute();

  await db.schema
    .createTable('watch_history')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('position_seconds', 'double precision', (c) => c.notNull().check(sql`position_seconds >= 0`))
    .addColumn('watched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('watch_history_pkey', ['user_id', 'video_id'])
    .execute();
  await db.schema.createIndex('watch_history_user_watched_idx').on('watch_history').columns(['user_id', 'watched_at desc', 'video_id desc']).execute();
  // What a video's deletion cascades through.
  await db.schema.createIndex('watch_history_video_idx').on('watch_history').column('video_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('watch_history').execute();
  await db.schema.dropTable('video_views').execute();
  await db.schema.dropTable('video_viewers').execute();
}
