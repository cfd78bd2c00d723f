import { sql, type Kysely } from 'kysely';

// Creator analytics (README, "Creator analytics"). The `analytics-rollup` Schedule recomputes
// each hour bucket (and the day it belongs to) from the source rows and replaces the bucket's
// rows, so recomputing a bucket again writes the same numbers.
// - watch_time: seconds watched per (video, viewer, UTC hour), accumulated by the player's
//   heartbeat in the same statement that counts views; one row per viewer, never a per-video
//   counter, so heartbeats of different viewers never queue on one row.
// - creator_analytics_hourly / _daily: one row per creator and bucket with activity; a day has
//   its own row because unique viewers of a day are not the sum of its hours'.
// - analytics_buckets: which buckets have been computed and when (how fresh the numbers are).
// - stream_viewer_samples: concurrent viewers of a live stream once a minute, written by the
//   realtime gateways with the counts they already keep; broadcast_analytics: per broadcast,
//   the average of those samples and the chat messages archived.
// Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('watch_time')
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('viewer', 'text', (c) => c.notNull().check(sql`length(viewer) <= 100`))
    .addColumn('hour_start', 'timestamptz', (c) => c.notNull().check(sql`hour_start = date_trunc('hour', hour_start, 'UTC')`))
    .addColumn('seconds', 'double precision', (c) => c.notNull().defaultTo(0).check(sql`seconds >= 0`))
    .addColumn('last_beat_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_position', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('watch_time_pkey', ['video_id', 'viewer', 'hour_start'])
    .execute();
  // The rollup reads one hour (or day) of it; retention deletes by age.
  await sql`create index watch_time_hour_idx on watch_time (hour_start)`.execute(db);

  for (const granularity of ['hourly', 'daily']) {
    await db.schema
      .createTable(`creator_analytics_${granularity}`)
      .addColumn('creator_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('bucket_start', 'timestamptz', (c) => c.notNull())
      .addColumn('views', 'integer', (c) => c.notNull().check(sql`views >= 0`))
      .addColumn('unique_viewers', 'integer', (c) => c.notNull().check(sql`unique_viewers >= 0`))
      .addColumn('watch_seconds', 'double precision', (c) => c.notNull().check(sql`watch_seconds >= 0`))
      .addColumn('likes', 'integer', (c) => c.notNull().check(sql`likes >= 0`))
      .addColumn('comments', 'integer', (c) => c.notNull().check(sql`comments >= 0`))
      .addColumn('new_followers', 'integer', (c) => c.notNull().check(sql`new_followers >= 0`))
      // Net of refunds, so it may be negative; minor units of the settlement currency.
      .addColumn('earnings', 'bigint', (c) => c.notNull())
      .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint(`creator_analytics_${granularity}_pkey`, ['creator_id', 'bucket_start'])
      .execute();
    // A recompute replaces one bucket's rows of every creator.
    await sql`create index ${sql.raw(`creator_analytics_${granularity}_bucket_idx`)} on ${sql.table(`creator_analytics_${granularity}`)} (bucket_start)`.execute(db);
  }

  await db.schema
    .createTable('analytics_buckets')
    .addColumn('granularity', 'text', (c) => c.notNull().check(sql`granularity in ('hour', 'day')`))
    .addColumn('bucket_start', 'timestamptz', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_buckets_pkey', ['granularity', 'bucket_start'])
    .execute();

  await db.schema
    .createTable('stream_viewer_samples')
    .addColumn('stream_id', 'uuid', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('minute_start', 'timestamptz', (c) => c.notNull())
    .addColumn('viewers', 'integer', (c) => c.notNull().check(sql`viewers >= 0`))
    .addPrimaryKeyConstraint('stream_viewer_samples_pkey', ['stream_id', 'minute_start'])
    .execute();

  await db.schema
    .createTable('broadcast_analytics')
    .addColumn('stream_id', 'uuid', (c) => c.primaryKey().references('streams.id').onDelete('cascade'))
    .addColumn('average_viewers', 'double precision', (c) => c.notNull().check(sql`average_viewers >= 0`))
    .addColumn('chat_messages', 'integer', (c) => c.notNull().check(sql`chat_messages >= 0`))
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // The rollup's range scans over the sources that had no time index.
  await sql`create index follows_created_idx on follows (created_at)`.execute(db);
  await sql`create index stream_likes_created_idx on stream_likes (created_at)`.execute(db);
  // Broadcasts of a creator overlapping a range (GET /creators/me/analytics) and the rollup's recent broadcasts.
  await sql`create index streams_owner_started_idx on streams (owner_id, started_at desc) where started_at is not null`.execute(db);
  await sql`create index streams_ended_idx on streams (ended_at) where started_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index streams_ended_idx`.execute(db);
  await sql`drop index streams_owner_started_idx`.execute(db);
  await sql`drop index stream_likes_created_idx`.execute(db);
  await sql`drop index follows_created_idx`.execute(db);
  await db.schema.dropTable('broadcast_analytics').execute();
  await db.schema.dropTable('stream_viewer_samples').execute();
  await db.schema.dropTable('analytics_buckets').execute();
  await db.schema.dropTable('creator_analytics_daily').execute();
  await db.schema.dropTable('creator_analytics_hourly').execute();
  await db.schema.dropTable('watch_time').execute();
}
