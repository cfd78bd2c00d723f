import { sql, type Kysely } from 'kysely';

// A channel's videos (GET /users/{id}/videos): most viewed first needs its own order per
// owner (newest first already has videos_owner_created_idx); and the poster time the owner
// chose (PATCH /videos/{id} thumbnailAtSeconds), which the poster workflow compares before it
// publishes so the last request wins whatever order its runs finish in. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('videos')
    .addColumn('poster_at_seconds', 'double precision', (c) => c.check(sql`poster_at_seconds >= 0`))
    .execute();
  await sql`create index videos_owner_views_idx on videos (owner_id, view_count desc, id desc) where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index videos_owner_views_idx`.execute(db);
  await db.schema.alterTable('videos').dropColumn('poster_at_seconds').execute();
}
