import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { isLive, lockVideoForComments, shiftLiveCounts } from '../../lib/comments.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Comment } from '../../lib/schema.ts';

/** The deepest a reply goes: a reply to a depth-2 reply joins its parent's replies (depth 2 too). */
export const MAX_DEPTH = 2;

export type CommentSort = 'newest' | 'top';

export interface CommentRow extends Comment {
  author_username: string;
  author_display_name: string;
  /** Postgres' own text of `created_at`, for exact keyset cursors. */
  created_key: string;
}

export interface NewComment {
  videoId: string;
  authorId: string;
  body: string;
  /** The comment answered; at depth 2 the reply attaches to its parent instead. */
  parentId: string | undefined;
  idempotencyKey: string | undefined;
}

const fingerprint = (c: NewComment) => createHash('sha256').update(JSON.stringify([c.videoId, c.parentId ?? null, c.body])).digest('hex');

/** Thrown inside the transaction to roll back its counter update when the key was already used. */
class KeyTaken extends Error {}

/**
 * Posts a comment or a reply. One transaction takes the video's lock (every comment writer
 * does, first), checks the comment answered is live and on this video, inserts, and moves the
 * counts. A reply to a depth-2 reply attaches to that reply's parent: threads stay two levels
 * deep. With an Idempotency-Key, the same author's same key answers the comment it created
 * (`created: false`), and the key with another body, video or parent is refused.
 */
export async function createComment(db: Db, input: NewComment): Promise<{ comment: Comment; created: boolean; answered: Comment | null }> {
  const print = input.idempotencyKey ? fingerprint(input) : null;
  try {
    return await db.transaction().execute(async (tx) => {
      if (!(await lockVideoForComments(tx, input.videoId))) throw new AppError('not_found', 'No such video');
      let answered: Comment | null = null;
      let parent: Comment | null = null;
      if (input.parentId) {
        answered = (await tx.selectFrom('comments').selectAll().where('id', '=', input.parentId).where('video_id', '=', input.videoId).executeTakeFirst()) ?? null;
        if (!answered) throw new AppError('not_found', 'No such comment on this video');
        if (!isLive(answered)) throw new AppError('unprocessable', 'That comment was removed; it takes no new replies', { reason: 'parent_removed' });
        parent = answered.depth < MAX_DEPTH ? answered : await tx.selectFrom('comments').selectAll().where('id', '=', answered.parent_id!).executeTakeFirstOrThrow();
      }
      const comment = await tx
        .insertInto('comments')
        .values({
          video_id: input.videoId,
          author_id: input.authorId,
          parent_id: parent?.id ?? null,
          root_id: parent ? (parent.root_id ?? parent.id) : null,
          depth: parent ? parent.depth + 1 : 0,
          body: input.body,
          idempotency_key: input.idempotencyKey ?? null,
          request_fingerprint: print,
        })
        .onConflict((oc) => oc.columns(['author_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!comment) throw new KeyTaken();
      await shiftLiveCounts(tx, comment, 1);
      return { comment, created: true, answered };
    });
  } catch (err) {
    if (!(err instanceof KeyTaken)) throw err;
    const earlier = await db.selectFrom('comments').selectAll().where('author_id', '=', input.authorId).where('idempotency_key', '=', input.idempotencyKey!).executeTakeFirstOrThrow();
    if (earlier.request_fingerprint !== print) throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different comment; use a new key for a new comment');
    return { comment: earlier, created: false, answered: null };
  }
}

/** A comment by id, whatever its state (the caller decides what a removed one means). */
export function findComment(db: Db, id: string): Promise<Comment | undefined> {
  return db.selectFrom('comments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The author's new words; marks it edited. A removed comment cannot be edited (404). */
export async function editComment(db: Db, id: string, authorId: string, body: string): Promise<Comment> {
  const edited = await db
    .updateTable('comments')
    .set({ body, edited_at: new Date() })
    .where('id', '=', id)
    .where('author_id', '=', authorId)
    .where('deleted_at', 'is', null)
    .where('moderation_hidden_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!edited) throw new AppError('not_found', 'No such comment');
  return edited;
}

/**
 * Deletes a comment: its words go (`body` null), and it leaves every count it was in. With
 * live replies below it, lists keep its place (`deleted: true`); without, it drops out of them.
 */
export async function deleteComment(db: Db, comment: Comment, deletedBy: string): Promise<Comment> {
  return db.transaction().execute(async (tx) => {
    await lockVideoForComments(tx, comment.video_id);
    const deleted = await tx
      .updateTable('comments')
      .set({ body: null, deleted_at: new Date(), deleted_by: deletedBy, pinned_at: null })
      .where('id', '=', comment.id)
      .where('deleted_at', 'is', null)
      .returning(['moderation_hidden_at'])
      .executeTakeFirst();
    if (!deleted) throw new AppError('not_found', 'No such comment');
    // A comment moderation hid has left the counts already.
    if (!deleted.moderation_hidden_at) await shiftLiveCounts(tx, comment, -1);
    return tx.selectFrom('comments').selectAll().where('id', '=', comment.id).executeTakeFirstOrThrow();
  });
}

/** Pins a live top-level comment (unpinning the video's previous one), or unpins it. */
export async function setPinned(db: Db, comment: Comment, pinned: boolean): Promise<Comment> {
  if (pinned && comment.depth !== 0) throw new AppError('unprocessable', 'Only a top-level comment can be pinned', { reason: 'not_top_level' });
  return db.transaction().execute(async (tx) => {
    // The video's lock queues pins of one video, so "unpin the other, pin this" never races into the unique index.
    await lockVideoForComments(tx, comment.video_id);
    if (pinned) await tx.updateTable('comments').set({ pinned_at: null }).where('video_id', '=', comment.video_id).where('pinned_at', 'is not', null).where('id', '<>', comment.id).execute();
    const row = await tx
      .updateTable('comments')
      .set({ pinned_at: pinned ? sql<Date>`coalesce(pinned_at, now())` : null })
      .where('id', '=', comment.id)
      .where('deleted_at', 'is', null)
      .where('moderation_hidden_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No such comment');
    return row;
  });
}

// Shown in lists: live, or removed but holding live replies (the thread keeps its shape).
const shown = sql<boolean>`((c.deleted_at is null and c.moderation_hidden_at is null) or c.reply_count > 0)`;

function withAuthor(db: Db) {
  return db
    .selectFrom('comments as c')
    .innerJoin('users as u', 'u.id', 'c.author_id')
    .selectAll('c')
    .select(['u.username as author_username', 'u.display_name as author_display_name', sql<string>`c.created_at::text`.as('created_key')]);
}

const selectRows = (db: Db) => withAuthor(db).where(shown);

export interface TopCursor {
  likes: number;
  replies: number;
  at: string;
  id: string;
}

/**
 * A video's top-level comments, the pinned one apart (the route puts it first). `newest`:
 * (created_at, id) descending. `top`: likes, then live replies, then newest, all descending.
 */
export async function listTopLevel(db: Db, videoId: string, sort: CommentSort, limit: number, after: TopCursor | { at: string; id: string } | undefined): Promise<CommentRow[]> {
  let query = selectRows(db).where('c.video_id', '=', videoId).where('c.depth', '=', 0).where('c.pinned_at', 'is', null);
  if (sort === 'top') {
    if (after && 'likes' in after) {
      query = query.where(sql<boolean>`(c.like_count, c.reply_count, c.created_at, c.id) < (${after.likes}, ${after.replies}, ${after.at}::timestamptz, ${after.id}::uuid)`);
    }
    query = query.orderBy('c.like_count', 'desc').orderBy('c.reply_count', 'desc');
  } else if (after) {
    query = query.where(sql<boolean>`(c.created_at, c.id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  }
  return (await query.orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(limit + 1).execute()) as CommentRow[];
}

export async function findPinned(db: Db, videoId: string): Promise<CommentRow | undefined> {
  return (await selectRows(db).where('c.video_id', '=', videoId).where('c.pinned_at', 'is not', null).executeTakeFirst()) as CommentRow | undefined;
}

/** A comment's direct replies, oldest first (a conversation reads top to bottom). */
export async function listReplies(db: Db, parentId: string, limit: number, after: { at: string; id: string } | undefined): Promise<CommentRow[]> {
  let query = selectRows(db).where('c.parent_id', '=', parentId);
  if (after) query = query.where(sql<boolean>`(c.created_at, c.id) > (${after.at}::timestamptz, ${after.id}::uuid)`);
  return (await query.orderBy('c.created_at', 'asc').orderBy('c.id', 'asc').limit(limit + 1).execute()) as CommentRow[];
}

/** The one row a route answers about a comment it just wrote. */
export async function commentRow(db: Db, id: string): Promise<CommentRow> {
  return (await withAuthor(db).where('c.id', '=', id).executeTakeFirstOrThrow()) as CommentRow;
}
