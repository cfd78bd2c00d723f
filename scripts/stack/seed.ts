import { sql } from 'kysely';
import { register, startSession } from '../../api/auth/service.ts';
import { createComment } from '../../api/comments/service.ts';
import { follow } from '../../api/users/service.ts';
import type { Config } from '../../lib/config.ts';
import { createDb, type Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { createPasswordHasher } from '../../lib/passwords.ts';
import type { UserRole } from '../../lib/schema.ts';
import { createTokenSigner } from '../../lib/tokens.ts';

// A small demo dataset for `npm start`, created through the real registration code.
// Idempotent: existing accounts and categories are left as they are.

export const DEMO_PASSWORD = 'streamhub-demo';

const demoUsers: { username: string; role: UserRole; displayName: string }[] = [
  { username: 'admin', role: 'admin', displayName: 'Admin' },
  { username: 'finance', role: 'finance', displayName: 'Finance' },
  { username: 'mod', role: 'moderator', displayName: 'Moderator' },
  { username: 'creator', role: 'creator', displayName: 'Demo Creator' },
  { username: 'viewer1', role: 'viewer', displayName: 'Viewer One' },
  { username: 'viewer2', role: 'viewer', displayName: 'Viewer Two' },
  { username: 'viewer3', role: 'viewer', displayName: 'Viewer Three' },
];

const demoCategories = [
  { name: 'Games', slug: 'games', tags: ['gaming'] },
  { name: 'Music', slug: 'music', tags: ['live music', 'djs'] },
  { name: 'Creative', slug: 'creative', tags: ['art', 'making'] },
  { name: 'IRL', slug: 'irl', tags: ['travel', 'chatting'] },
  { name: 'Education', slug: 'education', tags: ['science', 'coding'] },
  { name: 'Sports', slug: 'sports', tags: ['fitness'] },
];

export async function seedDemoData(config: Config): Promise<{ username: string; role: UserRole }[]> {
  const db = createDb({ url: config.postgres.url, poolMax: 2, applicationName: 'streamhub-seed' });
  try {
    const deps = sessionDeps(config, db);
    for (const demo of demoUsers) {
      try {
        await register(
          deps,
          { email: `${demo.username}@streamhub.local`, username: demo.username, password: DEMO_PASSWORD },
          { ip: '127.0.0.1', userAgent: 'streamhub-seed' },
        );
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'conflict')) throw err;
      }
      // Every run, so an interrupted earlier run cannot leave `admin` a viewer.
      // Demo addresses receive no mail; viewer3 stays unverified so the account page's banner has someone to show.
      const verified = demo.username === 'viewer3' ? {} : { email_verified_at: sql<Date>`coalesce(email_verified_at, now())` };
      await db.updateTable('users').set({ role: demo.role, display_name: demo.displayName, ...verified }).where('username', '=', demo.username).execute();
    }
    // The creator has a small following, so lists and (later) notifications have something to show.
    const ids = await demoUserIds(db);
    for (const fan of ['viewer1', 'viewer2', 'viewer3']) {
      if (ids[fan] && ids.creator) await follow(db, ids[fan]!, ids.creator, true);
    }
    await db
      .insertInto('categories')
      .values(demoCategories.map((c) => ({ name: c.name, slug: c.slug, tags: c.tags })))
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
    await seedComments(db, ids);
    return demoUsers.map(({ username, role }) => ({ username, role }));
  } finally {
    await db.destroy();
  }
}

const sessionDeps = (config: Config, db: Db) => ({
  db,
  passwords: createPasswordHasher({ memoryKib: config.auth.passwordHashMemoryKib }),
  tokens: createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: config.auth.accessTokenTtlSeconds }),
  refreshTtlDays: config.auth.refreshTokenTtlDays,
});

/** Authorization headers of a demo user. */
export type DemoSignIn = (username: string) => Promise<Record<string, string>>;

/**
 * Signs demo users in through the auth service rather than `POST /auth/login`, whose
 * per-address limit the person trying the stack shares with this script.
 */
export async function withDemoSessions<T>(config: Config, fn: (signIn: DemoSignIn) => Promise<T>): Promise<T> {
  const db = createDb({ url: config.postgres.url, poolMax: 1, applicationName: 'streamhub-seed' });
  const deps = sessionDeps(config, db);
  try {
    return await fn(async (username) => {
      // A session straight from the account (the seed is trusted): a demo user who turned on
      // two-factor sign-in, or changed the password, is still seeded for.
      const user = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
      const { tokens } = await startSession(deps, user, { ip: '127.0.0.1', userAgent: 'streamhub-seed' });
      return { authorization: `Bearer ${tokens.accessToken}` };
    });
  } finally {
    await db.destroy();
  }
}

/** The demo comment thread alone, for when the demo videos become ready after the seed ran. */
export async function seedDemoComments(config: Config): Promise<void> {
  const db = createDb({ url: config.postgres.url, poolMax: 1, applicationName: 'streamhub-seed' });
  try {
    await seedComments(db, await demoUserIds(db));
  } finally {
    await db.destroy();
  }
}

async function demoUserIds(db: Db): Promise<Record<string, string>> {
  const rows = await db.selectFrom('users').select(['id', 'username']).where('username', 'in', demoUsers.map((u) => u.username)).execute();
  return Object.fromEntries(rows.map((u) => [u.username, u.id]));
}

// A short thread on the demo creator's newest public video, once it has one: a comment, a
// reply, and an answer to the reply. Keys per video make a second run post nothing new.
const demoThread = [
  { author: 'viewer1', body: 'This is great, thanks for sharing!' },
  { author: 'viewer2', body: 'Agreed, the ending was the best part.', replyTo: 0 },
  { author: 'creator', body: 'Thank you both! More coming soon.', replyTo: 1 },
  { author: 'viewer3', body: 'First time here, subscribed.' },
] as const;

async function seedComments(db: Db, ids: Record<string, string>): Promise<void> {
  if (!ids.creator) return;
  const video = await db
    .selectFrom('videos')
    .select('id')
    .where('owner_id', '=', ids.creator)
    .where('status', '=', 'ready')
    .where('visibility', '=', 'public')
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (!video) return;
  const posted: string[] = [];
  for (const [n, line] of demoThread.entries()) {
    const parentId = 'replyTo' in line ? posted[line.replyTo] : undefined;
    const { comment } = await createComment(db, { videoId: video.id, authorId: ids[line.author]!, body: line.body, parentId, idempotencyKey: `seed:${video.id}:${n}` });
    posted.push(comment.id);
  }
}
