import { sql, type Kysely } from 'kysely';

// `GET /videos` without an owner: the newest public ready videos (the web app's home page).
// Owners' own lists use videos_owner_created_idx. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index videos_public_recent_idx on videos (created_at desc, id desc)
    where status = 'ready' and visibility = 'public' and deleted_at is null and moderation_hidden_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index videos_public_recent_idx`.execute(db);
}
