import type { Kysely } from 'kysely';

// A live stream's thumbnail: one image per stream, replaced about every minute while it is on
// air by the live-thumbnails Schedule (the same S3 key each time; `thumbnail_at` tells readers
// and caches that it changed). An ended stream keeps its last one. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('streams').addColumn('thumbnail_key', 'text').addColumn('thumbnail_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('streams').dropColumn('thumbnail_key').dropColumn('thumbnail_at').execute();
}
