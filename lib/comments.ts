import { sql } from 'kysely';
import type { Tx } from './db.ts';
import type { Comment } from './schema.ts';

// Counter rules of comments shared by the API (api/comments) and moderation's effects
// (activities/moderation.ts). A comment is live while neither its author (or the video's owner,
// a moderator) deleted it nor a moderation decision hid it. `videos.comment_count` counts live
// comments of every depth; `comments.reply_count` counts live replies anywhere below a comment
// (a top-level comment's replies and their replies). Every writer takes the video's row lock
// first, then the comment's, then its ancestors': one order, so writers queue and never deadlock.

/** Locks the video's row for the rest of the transaction; false if it is gone. */
export async function lockVideoForComments(tx: Tx, videoId: string): Promise<boolean> {
  const { rows } = await sql`select 1 from videos where id = ${videoId} and deleted_at is null for no key update`.execute(tx);
  return rows.length > 0;
}

/** A comment's ancestors: its parent and its thread's top-level comment (one id at depth 1). */
export const ancestorsOf = (c: Pick<Comment, 'parent_id' | 'root_id'>): string[] => [...new Set([c.root_id, c.parent_id].filter((id): id is string => id !== null))];

/** Moves the counts a comment is part of by one, in the caller's transaction (which holds the video's lock). */
export async function shiftLiveCounts(tx: Tx, c: Pick<Comment, 'video_id' | 'parent_id' | 'root_id'>, delta: 1 | -1): Promise<void> {
  await tx.updateTable('videos').set({ comment_count: sql<number>`comment_count + ${delta}` }).where('id', '=', c.video_id).execute();
  // Root first, then parent: the same order as every other writer.
  for (const id of ancestorsOf(c)) await tx.updateTable('comments').set({ reply_count: sql<number>`reply_count + ${delta}` }).where('id', '=', id).execute();
}

export const isLive = (c: Pick<Comment, 'deleted_at' | 'moderation_hidden_at'>) => c.deleted_at === null && c.moderation_hidden_at === null;

/**
 * Hides a comment by a moderation decision (`hiddenAt`) or restores it (`null`, an upheld
 * appeal), keeping the counts exact: they move only when the comment goes from live to not
 * or back. A pinned comment that is hidden is unpinned. No such comment: nothing to do.
 */
export async function setCommentHidden(tx: Tx, commentId: string, hiddenAt: Date | null): Promise<void> {
  const found = await tx.selectFrom('comments').select('video_id').where('id', '=', commentId).executeTakeFirst();
  if (!found) return;
  await lockVideoForComments(tx, found.video_id);
  const before = await tx.selectFrom('comments').selectAll().where('id', '=', commentId).forUpdate().executeTakeFirstOrThrow();
  const after = await tx
    .updateTable('comments')
    .set({ moderation_hidden_at: hiddenAt, ...(hiddenAt ? { pinned_at: null } : {}) })
    .where('id', '=', commentId)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (isLive(before) !== isLive(after)) await shiftLiveCounts(tx, after, isLive(after) ? 1 : -1);
}
