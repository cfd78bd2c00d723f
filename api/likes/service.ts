import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';

export type LikeTarget = 'video' | 'stream' | 'comment';

export interface LikeState {
  liked: boolean;
  likeCount: number;
}

// Fixed names per target, never from input.
const tables = {
  video: { targets: 'videos', likes: 'video_likes', key: 'video_id', live: sql`deleted_at is null` },
  stream: { targets: 'streams', likes: 'stream_likes', key: 'stream_id', live: sql`true` },
  comment: { targets: 'comments', likes: 'comment_likes', key: 'comment_id', live: sql`deleted_at is null and moderation_hidden_at is null` },
} as const;

/**
 * Likes (`liked: true`) or unlikes the target for this user, idempotently: one row per
 * (target, user), and the target's `like_count` changes in the same transaction, and only
 * when that row was actually inserted or deleted. Concurrent requests cannot skew it:
 * `on conflict do nothing` makes a second insert of the same pair wait for the first and
 * then do nothing, a delete of a row another transaction is deleting finds nothing once
 * that one commits, and the counter update takes the target's row lock, so increments
 * queue and none is lost. The caller checks visibility first; a target deleted since
 * then is 404 and the transaction writes nothing.
 */
export async function setLike(db: Db, target: LikeTarget, targetId: string, userId: string, liked: boolean): Promise<LikeState> {
  const t = tables[target];
  return db.transaction().execute(async (tx) => {
    const changed = liked
      ? await sql`insert into ${sql.table(t.likes)} (${sql.ref(t.key)}, user_id) values (${targetId}, ${userId}) on conflict do nothing returning 1`.execute(tx)
      : await sql`delete from ${sql.table(t.likes)} where ${sql.ref(t.key)} = ${targetId} and user_id = ${userId} returning 1`.execute(tx);
    const delta = changed.rows.length * (liked ? 1 : -1);
    const { rows } =
      delta === 0
        ? await sql<{ like_count: number }>`select like_count from ${sql.table(t.targets)} where id = ${targetId} and ${t.live}`.execute(tx)
        : await sql<{ like_count: number }>`
            update ${sql.table(t.targets)} set like_count = like_count + ${delta} where id = ${targetId} and ${t.live} returning like_count`.execute(tx);
    if (!rows[0]) throw new AppError('not_found', `No such ${target}`);
    return { liked, likeCount: rows[0].like_count };
  });
}

/** Which of these targets the user likes (one query; empty without a user). */
export async function likedByUser(db: Db, target: LikeTarget, targetIds: readonly string[], userId: string | undefined): Promise<Set<string>> {
  if (!userId || targetIds.length === 0) return new Set();
  const t = tables[target];
  const { rows } = await sql<{ id: string }>`
    select ${sql.ref(t.key)} as id from ${sql.table(t.likes)} where user_id = ${userId} and ${sql.ref(t.key)} = any(${targetIds}::uuid[])`.execute(db);
  return new Set(rows.map((r) => r.id));
}
