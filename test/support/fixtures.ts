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
 * Bulk audiences for fan-out tests and benches. Registering 10,000 users through the API
 * would spend minutes in argon2, so these rows are made set-based; they are plain
 * followers, never logged in.
 */
export async function insertFollowers(
  db: Db,
  followeeId: string,
  count: number,
  options: { notifyOff?: (i: number) => boolean } = {},
): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into users (email, username, password_hash, display_name)
    select 'bulk_' || s || '_' || r || '@example.test', 'bulk_' || s || '_' || r, 'not-a-hash', 'Bulk ' || s
    from generate_series(1, ${count}) s, (select substr(md5(random()::text), 1, 10) as r) rand
    returning id`.execute(db);
  const ids = rows.map((r) => r.id);
  const notify = ids.map((_, i) => !(options.notifyOff?.(i) ?? false));
  await sql`
    insert into follows (follower_id, followee_id, notify)
    select f.id, ${followeeId}, f.notify from unnest(${ids}::uuid[], ${notify}::boolean[]) as f(id, notify)`.execute(db);
  await sql`update users set follower_count = follower_count + ${count} where id = ${followeeId}`.execute(db);
  return ids;
}
