import { sql, type ExpressionBuilder } from 'kysely';
import type { Db, Tx } from '../../lib/db.ts';
import type { Database } from '../../lib/schema.ts';
import { AppError } from '../../lib/errors.ts';
import type { TimeKeyCursor } from '../responses.ts';
import { LIVE_STATUSES } from '../../lib/streams.ts';
import { profileColumns } from './profile.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A live (not deleted) user by id or, case-insensitively, by username; 404 otherwise. */
export async function findProfile(db: Db, idOrUsername: string) {
  const row = await db.selectFrom('users').select(profileColumns).where(isUser(idOrUsername)).executeTakeFirst();
  if (!row) throw new AppError('not_found', `No user ${idOrUsername}`);
  return row;
}

/**
 * A public profile with the public stream its channel is on air with now, if any (the newest,
 * should there be two), in one statement: the channel page is the API's most read route.
 * Unlisted streams are not announced: their link is for those it was given to.
 */
export async function findChannelProfile(db: Db, idOrUsername: string) {
  const row = await db
    .selectFrom('users')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('streams')
          .select(['id', 'title', 'status', 'started_at', 'current_viewers'])
          .whereRef('streams.owner_id', '=', 'users.id')
          .where('status', 'in', LIVE_STATUSES)
          .where('visibility', '=', 'public')
          .where('moderation_ended_at', 'is', null)
          .orderBy('started_at', 'desc')
          .limit(1)
          .as('live'),
      (join) => join.onTrue(),
    )
    .select([
      ...profileColumns,
      'live.id as live_id',
      'live.title as live_title',
      'live.status as live_status',
      'live.started_at as live_started_at',
      'live.current_viewers as live_current_viewers',
    ])
    .where(isUser(idOrUsername))
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No user ${idOrUsername}`);
  const { live_id, live_title, live_status, live_started_at, live_current_viewers, ...profile } = row;
  const liveStream =
    live_id === null || live_title === null || live_current_viewers === null
      ? null
      : { id: live_id, title: live_title, status: live_status as 'live' | 'reconnecting', startedAt: live_started_at, currentViewers: live_current_viewers };
  return { profile, liveStream };
}

function isUser(idOrUsername: string) {
  return (eb: ExpressionBuilder<Database, 'users'>) =>
    UUID.test(idOrUsername) ? eb('users.id', '=', idOrUsername) : eb(sql`lower(users.username)`, '=', idOrUsername.toLowerCase());
}

export async function findOwnProfile(db: Db, userId: string) {
  return db
    .selectFrom('users')
    .select([...profileColumns, 'users.email', 'users.email_verified_at', 'users.status', 'users.suspended_until'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
}

export async function updateOwnProfile(db: Db, userId: string, changes: { displayName?: string; bio?: string; avatarUrl?: string | null }) {
  await db
    .updateTable('users')
    .set({
      ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
      ...(changes.bio !== undefined ? { bio: changes.bio } : {}),
      ...(changes.avatarUrl !== undefined ? { avatar_url: changes.avatarUrl } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', userId)
    .execute();
  return findOwnProfile(db, userId);
}

/**
 * Follows idempotently: the counters move only when a row was really inserted, inside the
 * same transaction, so retries and races never double-count. Counter rows are locked in
 * id order so that A→B and B→A at once cannot deadlock.
 */
export async function follow(db: Db, followerId: string, followeeId: string, notify: boolean | undefined) {
  if (followerId === followeeId) {
    throw new AppError('validation_failed', 'You cannot follow yourself', [{ field: 'id', message: 'is your own id' }]);
  }
  return db.transaction().execute(async (tx) => {
    await lockUsersInOrder(tx, followerId, followeeId);
    const inserted = await tx
      .insertInto('follows')
      .values({ follower_id: followerId, followee_id: followeeId, notify: notify ?? true })
      .onConflict((oc) => oc.columns(['follower_id', 'followee_id']).doNothing())
      .returning('notify')
      .executeTakeFirst();
    if (inserted) {
      await adjustCounts(tx, followerId, followeeId, 1);
      return { following: true, notify: inserted.notify, created: true };
    }
    const existing =
      notify === undefined
        ? await tx.selectFrom('follows').select('notify').where('follower_id', '=', followerId).where('followee_id', '=', followeeId).executeTakeFirstOrThrow()
        : await tx
            .updateTable('follows')
            .set({ notify })
            .where('follower_id', '=', followerId)
            .where('followee_id', '=', followeeId)
            .returning('notify')
            .executeTakeFirstOrThrow();
    return { following: true, notify: existing.notify, created: false };
  });
}

export async function unfollow(db: Db, followerId: string, followeeId: string) {
  return db.transaction().execute(async (tx) => {
    await lockUsersInOrder(tx, followerId, followeeId);
    const deleted = await tx
      .deleteFrom('follows')
      .where('follower_id', '=', followerId)
      .where('followee_id', '=', followeeId)
      .returning('follower_id')
      .executeTakeFirst();
    if (deleted) await adjustCounts(tx, followerId, followeeId, -1);
    return { following: false };
  });
}

async function lockUsersInOrder(tx: Tx, a: string, b: string) {
  const rows = await tx
    .selectFrom('users')
    .select(['id', 'deleted_at'])
    .where('id', 'in', [a, b])
    .orderBy('id')
    .forUpdate()
    .execute();
  const followee = rows.find((r) => r.id === b);
  if (!followee || followee.deleted_at) throw new AppError('not_found', `No user ${b}`);
}

async function adjustCounts(tx: Tx, followerId: string, followeeId: string, delta: 1 | -1) {
  await tx.updateTable('users').set({ following_count: sql`following_count + ${delta}` }).where('id', '=', followerId).execute();
  await tx.updateTable('users').set({ follower_count: sql`follower_count + ${delta}` }).where('id', '=', followeeId).execute();
}

/** One keyset page of followers (or followees), newest follow first. */
export async function listFollowPage(
  db: Db,
  userId: string,
  direction: 'followers' | 'following',
  limit: number,
  after: TimeKeyCursor | undefined,
) {
  const [self, other] = direction === 'followers' ? (['followee_id', 'follower_id'] as const) : (['follower_id', 'followee_id'] as const);
  let query = db
    .selectFrom('follows as f')
    .innerJoin('users', 'users.id', `f.${other}`)
    // Text keeps Postgres' microseconds; a JS Date would round them and repeat or skip rows.
    .select([...profileColumns, sql<string>`f.created_at::text`.as('followed_at')])
    .where(`f.${self}`, '=', userId)
    .where('users.deleted_at', 'is', null);
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('f.created_at', `f.${other}`), '<', eb.tuple(sql<Date>`${after.at}::timestamptz`, after.id)),
    );
  }
  return query.orderBy('f.created_at', 'desc').orderBy(`f.${other}`, 'desc').limit(limit + 1).execute();
}

/** A viewer's first video or stream makes them a creator; other roles stay as they are. */
export async function promoteToCreator(tx: Tx, userId: string): Promise<void> {
  await tx.updateTable('users').set({ role: 'creator' }).where('id', '=', userId).where('role', '=', 'viewer').execute();
}
