import { randomBytes } from 'node:crypto';
import type { App } from '../../api/app.ts';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import type { UserRole, UserStatus } from '../../lib/schema.ts';
import { call } from './http.ts';

export const PASSWORD = 'correct horse battery';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

/** Registers a user through the real API, with unique names. */
export async function newUser(app: App, overrides: { username?: string; email?: string; password?: string } = {}): Promise<TestUser> {
  const suffix = randomBytes(4).toString('hex');
  const username = overrides.username ?? `user_${suffix}`;
  const email = overrides.email ?? `${username}@example.test`;
  const res = await call(app, 'POST', '/api/v1/auth/register', { body: { email, username, password: overrides.password ?? PASSWORD } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  const { user, accessToken, refreshToken } = res.json.data;
  return { id: user.id, username, email: user.email, accessToken, refreshToken, auth: { authorization: `Bearer ${accessToken}` } };
}

/** Role and status changes have no public API yet (moderation and admin tools come later). */
export async function setRole(db: Db, userId: string, role: UserRole) {
  await db.updateTable('users').set({ role }).where('id', '=', userId).execute();
}

export async function setStatus(db: Db, userId: string, status: UserStatus, suspendedUntil: Date | null = null) {
  await db.updateTable('users').set({ status, suspended_until: suspendedUntil }).where('id', '=', userId).execute();
}

/**
 * Bulk audiences for fan-out tests, list tests and benches. Registering 10,000 users
 * through the API would spend minutes in argon2, so these rows are made set-based; they
 * are plain users, never logged in.
 */
export async function insertBulkUsers(db: Db, count: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into users (email, username, password_hash, display_name)
    select 'bulk_' || s || '_' || r || '@example.test', 'bulk_' || s || '_' || r, 'not-a-hash', 'Bulk ' || s
    from generate_series(1, ${count}) s, (select substr(md5(random()::text), 1, 10) as r) rand
    returning id`.execute(db);
  return rows.map((r) => r.id);
}

/** `count` new bulk users who follow `followeeId`, with the counters kept right. */
export async function insertFollowers(
  db: Db,
  followeeId: string,
  count: number,
  options: { notifyOff?: (i: number) => boolean } = {},
): Promise<string[]> {
  const ids = await insertBulkUsers(db, count);
  const notify = ids.map((_, i) => !(options.notifyOff?.(i) ?? false));
  await sql`
    insert into follows (follower_id, followee_id, notify)
    select f.id, ${followeeId}, f.notify from unnest(${ids}::uuid[], ${notify}::boolean[]) as f(id, notify)`.execute(db);
  await sql`update users set follower_count = follower_count + ${count} where id = ${followeeId}`.execute(db);
  return ids;
}

/** `count` new bulk users whom `followerId` follows, with the counters kept right. */
export async function insertFollowees(db: Db, followerId: string, count: number): Promise<string[]> {
  const ids = await insertBulkUsers(db, count);
  await sql`insert into follows (follower_id, followee_id) select ${followerId}, f.id from unnest(${ids}::uuid[]) as f(id)`.execute(db);
  await sql`update users set follower_count = follower_count + 1 where id = any(${ids}::uuid[])`.execute(db);
  await sql`update users set following_count = following_count + ${count} where id = ${followerId}`.execute(db);
  return ids;
}

/** `count` unread notifications for one user, as the fan-out would write them; returns their ids. */
export async function insertNotifications(db: Db, recipientId: string, count: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into notifications (event_id, recipient_id, type, entity_type, entity_id)
    select 'test:' || gen_random_uuid(), ${recipientId}, 'video_published', 'video', 'bulk-' || s
    from generate_series(1, ${count}) s
    returning id`.execute(db);
  return rows.map((r) => r.id);
}

/** `count` active categories with random slugs (so they land anywhere in the slug order); returns their ids. */
export async function insertCategories(db: Db, count: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into categories (name, slug)
    select 'Bulk ' || r, 'bulk-' || r from (select substr(md5(random()::text), 1, 12) as r from generate_series(1, ${count})) rand
    returning id`.execute(db);
  return rows.map((r) => r.id);
}
