import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { MAX_PLAYLIST_ITEMS, MAX_PLAYLISTS_PER_USER } from '../../lib/playlist-order.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pageMetaSchema, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findProfile } from '../users/service.ts';
import { findVisibleVideo } from '../videos/service.ts';
import {
  addItem,
  createPlaylist,
  deletePlaylist,
  findOwnPlaylist,
  findReadablePlaylist,
  listItems,
  listPlaylists,
  moveItem,
  removeItem,
  unavailableCount,
  updatePlaylist,
  watchLater,
  type PlaylistRow,
} from './service.ts';

const visibility = z.enum(['public', 'unlisted', 'private']);

const playlistSchema = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid(),
    kind: z.enum(['regular', 'watch_later']).openapi({ description: '`watch_later`: the built-in one (private; cannot be renamed, shared or deleted)' }),
    title: z.string(),
    description: z.string(),
    visibility,
    itemCount: z.number().int().min(0).openapi({ description: 'Every item, including those the viewer may not see' }),
    hasVideo: z.boolean().nullable().openapi({ description: 'Whether it holds the `withVideo` video of the request; null when not asked' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Playlist');

const itemSchema = z
  .object({
    videoId: z.uuid(),
    title: z.string(),
    ownerId: z.uuid(),
    durationSeconds: z.number().nullable(),
    addedAt: z.string(),
  })
  .openapi('PlaylistItem');

const toPlaylist = (row: PlaylistRow): z.infer<typeof playlistSchema> => ({
  id: row.id,
  ownerId: row.owner_id,
  kind: row.kind,
  title: row.title,
  description: row.description,
  visibility: row.visibility,
  itemCount: row.item_count,
  hasVideo: row.has_video,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const newPlaylistSchema = z
  .object({
    title: z.string().trim().min(1).max(150),
    description: z.string().max(5000).default(''),
    visibility: visibility.default('private'),
  })
  .strict();

const playlistChangesSchema = z
  .object({ title: z.string().trim().min(1).max(150).optional(), description: z.string().max(5000).optional(), visibility: visibility.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'Change at least one of title, description, visibility' });

const anchor = z.uuid();
const newItemSchema = z
  .object({
    videoId: z.uuid(),
    before: anchor.optional().openapi({ description: 'Insert before this video (of the playlist)' }),
    after: anchor.optional().openapi({ description: 'Insert after this video (of the playlist)' }),
  })
  .strict()
  .refine((b) => !(b.before && b.after), { message: 'Give before or after, not both', path: ['before'] });

const addedSchema = z.object({ added: z.boolean() });

const moveSchema = z
  .object({ before: anchor.optional(), after: anchor.optional() })
  .strict()
  .refine((b) => (b.before === undefined) !== (b.after === undefined), { message: 'Give exactly one of before or after', path: ['before'] });

const itemParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }),
  videoId: z.uuid().openapi({ param: { name: 'videoId', in: 'path' } }),
});

const itemsCursorSchema = z.object({ p: z.string().min(1).max(1000) });

const userParam = z.object({
  idOrUsername: z.string().min(1).max(64).openapi({ param: { name: 'idOrUsername', in: 'path' }, description: 'User id, username, or `me`' }),
});

const limits = `A user may have ${MAX_PLAYLISTS_PER_USER} playlists (watch later not counted), a playlist ${MAX_PLAYLIST_ITEMS} videos; past either, \`limit_reached\` 422.`;

/**
 * Playlists: ordered lists of videos, public, unlisted (readable by id) or private (404 to
 * anyone but the owner). Only the owner changes one. Every write counts against
 * `RATE_LIMIT_PLAYLIST_WRITES_PER_MINUTE` per user. Each user's watch later is a playlist too
 * (`GET /users/me/watch-later`), edited with the same item routes.
 */
export function playlistRoutes(deps: { config: Config; db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const perUser = rateLimit(db, { name: 'playlists', limit: deps.config.rateLimits.playlistWritesPerMinute, windowSeconds: 60, subjects: (c) => [currentUser(c).userId] });
  const writeErrors = { 401: 'Not signed in', 403: 'Not your playlist, or your account is suspended or banned', 404: 'No such playlist, or not yours to see', 429: 'Too many playlist changes' };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/playlists',
      tags: ['playlists'],
      summary: 'Create a playlist (private unless you say otherwise)',
      description: limits,
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { body: jsonBody(newPlaylistSchema) },
      responses: {
        201: enveloped(playlistSchema, 'Created'),
        ...errorResponses({ 400: 'Invalid fields', ...writeErrors, 422: `Already ${MAX_PLAYLISTS_PER_USER} playlists` }),
      },
    }),
    async (c) => c.json(ok(toPlaylist(await createPlaylist(db, currentUser(c).userId, c.req.valid('json')))), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/playlists/{id}',
      tags: ['playlists'],
      summary: 'A playlist (public, unlisted, or your own private one)',
      request: { params: uuidParam },
      responses: { 200: enveloped(playlistSchema, 'The playlist'), ...errorResponses({ 404: 'No such playlist, or not yours to see' }) },
    }),
    async (c) => c.json(ok(toPlaylist(await findReadablePlaylist(db, c.req.valid('param').id, c.get('auth')))), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/playlists/{id}',
      tags: ['playlists'],
      summary: 'Rename a playlist, change its description or visibility (not watch later: 403)',
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { params: uuidParam, body: jsonBody(playlistChangesSchema) },
      responses: { 200: enveloped(playlistSchema, 'Updated'), ...errorResponses({ 400: 'Invalid fields', ...writeErrors }) },
    }),
    async (c) => {
      const row = await findOwnPlaylist(db, c.req.valid('param').id, c.get('auth'));
      return c.json(ok(toPlaylist(await updatePlaylist(db, row, c.req.valid('json')))), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/playlists/{id}',
      tags: ['playlists'],
      summary: 'Delete a playlist and its items (not watch later: 403)',
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { params: uuidParam },
      responses: { 200: enveloped(z.object({ deleted: z.literal(true) }), 'Deleted'), ...errorResponses(writeErrors) },
    }),
    async (c) => {
      await deletePlaylist(db, await findOwnPlaylist(db, c.req.valid('param').id, c.get('auth')));
      return c.json(ok({ deleted: true as const }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/playlists/{id}/items',
      tags: ['playlists'],
      summary: 'A playlist’s videos in play order, leaving out those you may not see',
      description:
        'Videos private to others, not ready, hidden by moderation or deleted are left out; `meta.unavailableCount` says how many (on every page).',
      request: { params: uuidParam, query: pageQuerySchema },
      responses: {
        200: {
          description: 'One page',
          content: {
            'application/json': {
              schema: z.object({
                success: z.literal(true),
                data: z.array(itemSchema),
                meta: pageMetaSchema.extend({ unavailableCount: z.number().int().min(0).openapi({ description: 'Items left out because you may not see them' }) }),
              }),
            },
          },
        },
        ...errorResponses({ 400: 'Invalid cursor', 404: 'No such playlist, or not yours to see' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const auth = c.get('auth');
      await findReadablePlaylist(db, id, auth);
      const rows = await listItems(db, id, auth, limit, decodeCursor(cursor, itemsCursorSchema)?.p);
      const unavailable = await unavailableCount(db, id, auth);
      const toItem = (r: (typeof rows)[number]) => ({
        videoId: r.video_id,
        title: r.title,
        ownerId: r.owner_id,
        durationSeconds: r.duration_seconds,
        addedAt: r.added_at.toISOString(),
      });
      return c.json(page(rows, limit, toItem, (r) => ({ p: r.position }), { unavailableCount: unavailable }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/playlists/{id}/items',
      tags: ['playlists'],
      summary: 'Add a video: at the end, or before or after a video already in it (idempotent)',
      description: `A video is in a playlist at most once: adding it again leaves it where it is and answers 200 (201 when added). Only videos you may see can be added. ${limits}`,
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { params: uuidParam, body: jsonBody(newItemSchema) },
      responses: {
        200: enveloped(addedSchema, 'Already in the playlist (`added: false`)'),
        201: enveloped(addedSchema, 'Added (`added: true`)'),
        ...errorResponses({ 400: 'Invalid fields', ...writeErrors, 404: 'No such playlist or video (or anchor not in the playlist)', 422: `The playlist already holds ${MAX_PLAYLIST_ITEMS} videos` }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { videoId, before, after } = c.req.valid('json');
      const auth = c.get('auth');
      await findOwnPlaylist(db, id, auth);
      await findVisibleVideo(db, videoId, auth);
      const placement = before ? { before } : after ? { after } : { at: 'end' as const };
      const { added } = await addItem(db, id, videoId, placement);
      return added ? c.json(ok({ added }), 201) : c.json(ok({ added }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/playlists/{id}/items/{videoId}',
      tags: ['playlists'],
      summary: 'Remove a video from a playlist (idempotent)',
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { params: itemParams },
      responses: { 200: enveloped(z.object({ removed: z.boolean() }), 'Removed (false: it was not there)'), ...errorResponses(writeErrors) },
    }),
    async (c) => {
      const { id, videoId } = c.req.valid('param');
      await findOwnPlaylist(db, id, c.get('auth'));
      return c.json(ok(await removeItem(db, id, videoId)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/playlists/{id}/items/{videoId}/move',
      tags: ['playlists'],
      summary: 'Move a video before or after another video of the playlist',
      description: 'Body: exactly one of `before` or `after`, a video id in the playlist. One row changes, whatever the playlist’s length.',
      ...signedIn,
      middleware: [requireAuth, perUser],
      request: { params: itemParams, body: jsonBody(moveSchema) },
      responses: {
        200: enveloped(z.object({ moved: z.literal(true) }), 'Moved'),
        ...errorResponses({ 400: 'Invalid body, or a move next to itself', ...writeErrors, 404: 'No such playlist, or the video or anchor is not in it' }),
      },
    }),
    async (c) => {
      const { id, videoId } = c.req.valid('param');
      const { before, after } = c.req.valid('json');
      await findOwnPlaylist(db, id, c.get('auth'));
      await moveItem(db, id, videoId, before ? { before } : { after: after! });
      return c.json(ok({ moved: true as const }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/users/me/watch-later',
      tags: ['playlists'],
      summary: 'Your watch later playlist (created, private, on first use)',
      description: 'Add, remove and move its videos with the `/playlists/{id}/items` routes. It cannot be renamed, shared or deleted (403).',
      ...signedIn,
      responses: { 200: enveloped(playlistSchema, 'Your watch later'), ...errorResponses({ 401: 'Not signed in' }) },
    }),
    async (c) => c.json(ok(toPlaylist(await watchLater(db, currentUser(c).userId))), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/users/{idOrUsername}/playlists',
      tags: ['playlists'],
      summary: 'A user’s playlists, newest first: their public ones, or all of your own',
      description: '`me` (signed in) or your own id or username lists all of yours, watch later included once it exists. `withVideo` fills in `hasVideo`.',
      request: { params: userParam, query: pageQuerySchema.extend({ withVideo: z.uuid().optional() }) },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: z.object({ success: z.literal(true), data: z.array(playlistSchema), meta: pageMetaSchema }) } } },
        ...errorResponses({ 400: 'Invalid cursor', 401: '`me` without signing in', 404: 'No such user' }),
      },
    }),
    async (c) => {
      const { idOrUsername } = c.req.valid('param');
      const { limit, cursor, withVideo } = c.req.valid('query');
      const auth = c.get('auth');
      if (idOrUsername === 'me' && !auth) throw new AppError('unauthorized', 'Sign in: `me` needs a bearer access token');
      const ownerId = idOrUsername === 'me' ? auth!.userId : (await findProfile(db, idOrUsername)).id;
      const rows = await listPlaylists(db, ownerId, auth?.userId === ownerId, limit, decodeCursor(cursor, timeKeyCursorSchema), withVideo);
      return c.json(page(rows, limit, toPlaylist, (r) => ({ at: r.created_key, id: r.id })), 200);
    },
  );

  return router;
}
