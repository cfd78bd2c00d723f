import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { raiseNotificationEvent, type NotificationEvent } from '../../lib/notifications.ts';
import type { Comment, Video } from '../../lib/schema.ts';
import type { Temporal } from '../../lib/temporal.ts';
import type { AppEnv, AuthContext } from '../context.ts';
import { likeStateSchema, likesPerUser } from '../likes/routes.ts';
import { likedByUser, setLike } from '../likes/service.ts';
import { currentUser, ownerOrAdmin, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pageMetaSchema, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findWatchableVideo } from '../videos/service.ts';
import { commentRow, createComment, deleteComment, editComment, findComment, findPinned, listReplies, listTopLevel, setPinned, type CommentRow } from './service.ts';

export const COMMENT_MAX_CHARS = 2000;

// Characters as people count them (code points), after trimming: an emoji is one.
const bodySchema = z
  .string()
  .trim()
  .min(1)
  .refine((s) => [...s].length <= COMMENT_MAX_CHARS, `at most ${COMMENT_MAX_CHARS} characters`)
  .openapi({ description: `1–${COMMENT_MAX_CHARS} characters after trimming` });

const newCommentSchema = z
  .object({
    body: bodySchema,
    parentId: z.uuid().optional().openapi({ description: 'The comment answered (a reply); a reply to a depth-2 reply joins that reply’s parent' }),
  })
  .strict();

export const commentSchema = z
  .object({
    id: z.uuid(),
    videoId: z.uuid(),
    parentId: z.uuid().nullable(),
    rootId: z.uuid().nullable().openapi({ description: 'The thread’s top-level comment; null for a top-level comment' }),
    depth: z.number().int().min(0).max(2),
    author: z.object({ id: z.uuid(), username: z.string(), displayName: z.string() }).nullable().openapi({ description: 'Null once deleted' }),
    body: z.string().nullable().openapi({ description: 'Null once deleted (by a person or a moderation decision)' }),
    deleted: z.boolean().openapi({ description: 'Removed, kept in the list because replies below it are not' }),
    edited: z.boolean(),
    editedAt: z.string().nullable(),
    pinned: z.boolean(),
    likeCount: z.number().int().min(0),
    likedByMe: z.boolean().nullable().openapi({ description: 'Null for anonymous viewers' }),
    replyCount: z.number().int().min(0).openapi({ description: 'Live replies anywhere below this comment' }),
    createdAt: z.string(),
  })
  .openapi('Comment');

const listQuery = pageQuerySchema.extend({
  sort: z.enum(['newest', 'top']).default('newest').openapi({ description: '`newest`: newest first. `top`: most likes, then most replies, then newest' }),
});
const topCursorSchema = z.object({ likes: z.number().int(), replies: z.number().int(), at: timeKeyCursorSchema.shape.at, id: z.uuid() });
const commentPage = (description: string, meta = pageMetaSchema) =>
  ({ description, content: { 'application/json': { schema: z.object({ success: z.literal(true), data: z.array(commentSchema), meta }) } } }) as const;

function view(row: CommentRow, likedByMe: boolean | null): z.infer<typeof commentSchema> {
  const removed = row.deleted_at !== null || row.moderation_hidden_at !== null;
  return {
    id: row.id,
    videoId: row.video_id,
    parentId: row.parent_id,
    rootId: row.root_id,
    depth: row.depth,
    author: removed ? null : { id: row.author_id, username: row.author_username, displayName: row.author_display_name },
    body: removed ? null : row.body,
    deleted: removed,
    edited: row.edited_at !== null,
    editedAt: row.edited_at?.toISOString() ?? null,
    pinned: row.pinned_at !== null,
    likeCount: row.like_count,
    likedByMe,
    replyCount: row.reply_count,
    createdAt: row.created_at.toISOString(),
  };
}

const excerpt = (body: string) => ([...body].length > 140 ? `${[...body].slice(0, 139).join('')}…` : body);

/**
 * Comments on videos: `/videos/{id}/comments` (list, post) and `/comments/{id}…` (replies,
 * edit, delete, pin, like). Everything needs the video to be one the caller may see
 * (`GET /videos/{id}`'s rules): otherwise 404, as if there were no such comment.
 */
export function commentRoutes(deps: { config: Config; db: Db; temporal: Temporal }) {
  const { db } = deps;
  const router = createRouter();
  const perUser = rateLimit(db, { name: 'comments', limit: deps.config.rateLimits.commentsPerMinute, windowSeconds: 60, subjects: (c) => [currentUser(c).userId] });

  const views = async (rows: CommentRow[], auth: AuthContext | undefined) => {
    const liked = await likedByUser(db, 'comment', rows.map((r) => r.id), auth?.userId);
    return (row: CommentRow) => view(row, auth ? liked.has(row.id) : null);
  };
  const answer = async (c: Context<AppEnv>, id: string) => {
    const row = await commentRow(db, id);
    return (await views([row], c.get('auth')))(row);
  };
  /** The comment and its video, when the caller may see the video; 404 otherwise. */
  const visibleComment = async (id: string, auth: AuthContext | undefined): Promise<{ comment: Comment; video: Video }> => {
    const comment = await findComment(db, id);
    if (!comment) throw new AppError('not_found', 'No such comment');
    return { comment, video: await findWatchableVideo(db, comment.video_id, auth) };
  };

  /** After the commit: the video's owner hears of a new comment, the answered comment's author of a reply; never yourself. */
  const notify = async (c: Context<AppEnv>, comment: Comment, answered: Comment | null, video: Video) => {
    const recipient = answered ? answered.author_id : video.owner_id;
    if (recipient === comment.author_id) return;
    const event: NotificationEvent = {
      id: `comment:${comment.id}`,
      type: answered ? 'comment_reply' : 'comment_received',
      actorId: comment.author_id,
      entityType: 'video',
      entityId: video.id,
      payload: { title: video.title, commentId: comment.id, ...(answered ? { parentId: answered.id } : {}), excerpt: excerpt(comment.body ?? '') },
    };
    // The comment is committed; a notification that cannot be queued is logged, not a failed post.
    await raiseNotificationEvent(deps.temporal, event, { kind: 'users', userIds: [recipient] }).catch((err) => c.get('log').error({ err, commentId: comment.id }, 'could not raise a comment notification'));
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/videos/{id}/comments',
      tags: ['comments'],
      summary: 'Top-level comments of a video; the pinned one first',
      description:
        'The first page (no `cursor`) starts with the pinned comment, if any, in addition to `limit` others; later pages never repeat it. ' +
        'A deleted comment with live replies keeps its place (`deleted: true`, `body: null`); without, it is not listed. `meta.commentCount` is the video’s exact count of live comments, replies included.',
      request: { params: uuidParam, query: listQuery },
      responses: {
        200: commentPage('Comments', pageMetaSchema.extend({ commentCount: z.number().int().min(0) })),
        ...errorResponses({ 400: 'Invalid query or cursor', 403: '`subscribers_only`: a subscriber-only video you may not watch', 404: 'No such video, or not yours to see' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { sort, limit, cursor } = c.req.valid('query');
      const video = await findWatchableVideo(db, id, c.get('auth'));
      const after = sort === 'top' ? decodeCursor(cursor, topCursorSchema) : decodeCursor(cursor, timeKeyCursorSchema);
      const rows = await listTopLevel(db, id, sort, limit, after);
      const pinned = after ? undefined : await findPinned(db, id);
      const toView = await views(pinned ? [pinned, ...rows] : rows, c.get('auth'));
      const listed = page(rows, limit, toView, (r) => (sort === 'top' ? { likes: r.like_count, replies: r.reply_count, at: r.created_key, id: r.id } : { at: r.created_key, id: r.id }), {
        commentCount: video.comment_count,
      });
      return c.json({ ...listed, data: pinned ? [toView(pinned), ...listed.data] : listed.data }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/videos/{id}/comments',
      tags: ['comments'],
      summary: 'Comment on a video, or reply to a comment (`parentId`)',
      description:
        'Threads are two levels deep: a reply to a top-level comment has depth 1, a reply to that depth 2, and a reply to a depth-2 reply joins that reply’s parent (depth 2). ' +
        'Send an `Idempotency-Key` header to make retries safe: the same key answers 200 with the comment it created (header `Idempotent-Replayed: true`); the same key with another body, video or parent is 409 `idempotency_key_reused`. ' +
        'Counts against `RATE_LIMIT_COMMENTS_PER_MINUTE` per user (every attempt, refused ones and retries too). The video’s owner is notified of a new top-level comment (`comment_received`), the answered comment’s author of a reply (`comment_reply`); never yourself.',
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: {
        params: uuidParam,
        headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional().openapi({ description: 'Unique per comment you mean to post, e.g. a UUID' }) }),
        body: jsonBody(newCommentSchema),
      },
      responses: {
        201: enveloped(commentSchema, 'Posted'),
        200: enveloped(commentSchema, 'Posted earlier under this Idempotency-Key; nothing new was posted'),
        ...errorResponses({
          400: 'Invalid body (empty after trimming, over 2000 characters)',
          401: 'Not signed in',
          403: 'Account suspended or banned, or `subscribers_only`: a subscriber-only video you may not watch',
          404: 'No such video (or not yours to see), or no such comment on it',
          409: '`idempotency_key_reused`',
          422: '`unprocessable`: the comment answered was deleted',
          429: 'Too many comments',
        }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const video = await findWatchableVideo(db, id, c.get('auth'));
      const { comment, created, answered } = await createComment(db, {
        videoId: video.id,
        authorId: currentUser(c).userId,
        body: body.body,
        parentId: body.parentId,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      });
      if (!created) {
        c.header('Idempotent-Replayed', 'true');
        return c.json(ok(await answer(c, comment.id)), 200);
      }
      await notify(c, comment, answered, video);
      return c.json(ok(await answer(c, comment.id)), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/comments/{id}/replies',
      tags: ['comments'],
      summary: 'Direct replies to a comment, oldest first',
      description: 'A top-level comment’s replies are depth 1; a depth-1 reply’s are depth 2. Deleted replies follow the list rule of `GET /videos/{id}/comments`.',
      request: { params: uuidParam, query: pageQuerySchema },
      responses: {
        200: commentPage('Replies'),
        ...errorResponses({ 400: 'Invalid query or cursor', 403: '`subscribers_only`: on a subscriber-only video you may not watch', 404: 'No such comment, or its video is not yours to see' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      await visibleComment(id, c.get('auth'));
      const rows = await listReplies(db, id, limit, decodeCursor(cursor, timeKeyCursorSchema));
      return c.json(page(rows, limit, await views(rows, c.get('auth')), (r) => ({ at: r.created_key, id: r.id })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/comments/{id}',
      tags: ['comments'],
      summary: 'Edit your comment (marked edited, with `editedAt`)',
      ...signedIn,
      request: { params: uuidParam, body: jsonBody(z.object({ body: bodySchema }).strict()) },
      responses: {
        200: enveloped(commentSchema, 'Edited'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not your comment', 404: 'No such comment (or deleted), or its video is not yours to see' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const me = currentUser(c);
      const { comment } = await visibleComment(id, me);
      if (comment.author_id !== me.userId) throw new AppError('forbidden', 'Only its author can edit a comment');
      await editComment(db, id, me.userId, c.req.valid('json').body);
      return c.json(ok(await answer(c, id)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/comments/{id}',
      tags: ['comments'],
      summary: 'Delete a comment: its author, the video’s owner, a moderator or an admin',
      description: 'The body goes; with live replies below it the comment keeps its place in lists (`deleted: true`), without it is no longer listed. It leaves every count.',
      ...signedIn,
      request: { params: uuidParam },
      responses: {
        200: enveloped(commentSchema, 'Deleted'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not yours to delete', 404: 'No such comment (or already deleted), or its video is not yours to see' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const me = currentUser(c);
      const { comment, video } = await visibleComment(id, me);
      const allowed = comment.author_id === me.userId || ownerOrAdmin(me, video.owner_id) || me.role === 'moderator';
      if (!allowed) throw new AppError('forbidden', 'Only its author, the video’s owner or a moderator can delete a comment');
      await deleteComment(db, comment, me.userId);
      return c.json(ok(await answer(c, id)), 200);
    },
  );

  const pinErrors = { 401: 'Not signed in', 403: 'Not the video’s owner', 404: 'No such comment (or deleted), or its video is not yours to see' };
  for (const method of ['put', 'delete'] as const) {
    const pin = method === 'put';
    router.openapi(
      createRoute({
        method,
        path: '/comments/{id}/pin',
        tags: ['comments'],
        summary: pin ? 'Pin a top-level comment (the video’s owner); replaces the video’s pinned one' : 'Unpin a comment (the video’s owner)',
        ...signedIn,
        request: { params: uuidParam },
        responses: {
          200: enveloped(commentSchema, pin ? 'Pinned' : 'Not pinned'),
          ...errorResponses(pin ? { ...pinErrors, 422: '`unprocessable`: only a top-level comment can be pinned' } : pinErrors),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const me = currentUser(c);
        const { comment, video } = await visibleComment(id, me);
        if (!ownerOrAdmin(me, video.owner_id)) throw new AppError('forbidden', 'Only the video’s owner can pin comments');
        await setPinned(db, comment, pin);
        return c.json(ok(await answer(c, id)), 200);
      },
    );
  }

  const likeLimit = likesPerUser(deps);
  for (const method of ['put', 'delete'] as const) {
    const liked = method === 'put';
    router.openapi(
      createRoute({
        method,
        path: '/comments/{id}/like',
        tags: ['comments'],
        summary: liked ? 'Like a comment (idempotent: one like per user)' : 'Remove your like of a comment (idempotent)',
        description: 'Answers the comment’s exact like count afterwards. Counts against `RATE_LIMIT_LIKES_PER_MINUTE` with every other like.',
        ...signedIn,
        middleware: [requireAuth, likeLimit],
        request: { params: uuidParam },
        responses: {
          200: enveloped(likeStateSchema, liked ? 'Liked' : 'Not liked'),
          ...errorResponses({ 401: 'Not signed in', 403: 'Account suspended or banned', 404: 'No such comment (or deleted), or its video is not yours to see', 429: 'Too many likes' }),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        await visibleComment(id, c.get('auth'));
        return c.json(ok(await setLike(db, 'comment', id, currentUser(c).userId, liked)), 200);
      },
    );
  }

  return router;
}
