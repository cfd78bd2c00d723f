import { sql, type Kysely } from 'kysely';

// Trending and up next (README, "Trending", "Up next"). The `trending` Schedule recomputes each
// video's time-decayed score from the views, likes and comments of the last few days into
// `video_trending`, and GET /trending reads the top of it; only videos with activity in the
// window have a row, and the window scans need the time indexes below. GET /videos/:id/up-next
// reads a video's latest viewers and their latest videos (co-watch), then the most viewed of
// its category: each an index range, never a scan. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('video_trending')
    .addColumn('video_id', 'uuid', (c) => c.primaryKey().references('videos.id').onDelete('cascade'))
    // Copied from the video at each recompute, so a category's trending list is one index range.
    .addColumn('category_id', 'uuid', (c) => c.references('categories.id').onDelete('set null'))
    .addColumn('score', 'double precision', (c) => c.notNull().check(sql`score > 0`))
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index video_trending_score_idx on video_trending (score desc, video_id desc)`.execute(db);
  await sql`create index video_trending_category_score_idx on video_trending (category_id, score desc, video_id desc) where category_id is not null`.execute(db);

  await sql`create index video_views_viewed_idx on video_views (viewed_at)`.execute(db);
  await sql`create index video_likes_created_idx on video_likes (created_at)`.execute(db);
  await sql`create index comments_created_idx on comments (created_at)`.execute(db);

  // Replaces the plain (video_id) index: also what a video's deletion cascades through.
  await sql`create index watch_history_video_watched_idx on watch_history (video_id, watched_at desc)`.execute(db);
  await sql`drop index watch_history_video_idx`.execute(db);
  await sql`create index videos_public_category_views_idx on videos (category_id, view_count desc, id desc)
    where status = 'ready' and visibility = 'public' and deleted_at is null and moderation_hidden_at is null and category_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index videos_public_category_views_idx`.execute(db);
  await sql`create index watch_history_video_idx on watch_history (video_id)`.execute(db);
  await sql`drop index watch_history_video_watched_idx`.execute(db);
  await sql`drop index comments_created_idx`.execute(db);
  await sql`drop index video_likes_created_idx`.execute(db);
  await sql`drop index video_views_viewed_idx`.execute(db);
  await db.schema.dropTable('video_trending').execute();
}
