import { createRoute, z } from '@hono/zod-openapi';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { webLinks } from '../../lib/web-urls.ts';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { fileWatchedSignals } from '../../lib/moderation/signals.ts';
import { screenWatched, type HeldField } from '../../lib/moderation/watched-store.ts';
import type { Nats } from '../../lib/nats.ts';
import { presignGet, type Storage } from '../../lib/s3.ts';
import { AppError } from '../../lib/errors.ts';
import { CHAT_MODES } from '../../lib/chat.ts';
import type { Stream } from '../../lib/schema.ts';
import { FINISHED_STATUSES, LIVE_STATUSES } from '../../lib/streams.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { endStreamSignal, updateInfoUpdate } from '../../workflows/stream.ts';
import { currentUser, ownerOrAdmin, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { likedByUser } from '../likes/service.ts';
import { createPlaybackSigner } from '../videos/playback.ts';
import { createStream, findStream, listStreams, rotateStreamKey } from './service.ts';

export interface StreamRouteDeps {
  config: Config;
  db: Db;
  nats: Nats;
  storage: Storage;
  temporal: Temporal;
}

const statuses = ['idle', 'scheduled', 'live', 'reconnecting', 'ended', 'cancelled'] as const;

const streamSchema = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid(),
    title: z.string(),
    description: z.string(),
    categoryId: z.uuid().nullable(),
    visibility: z.enum(['public', 'unlisted']),
    mature: z.boolean(),
    ageRestricted: z.boolean().openapi({ description: 'Age-restricted by moderation: show an interstitial; anonymous viewers get no `playbackUrl`' }),
    chatMode: z.enum(CHAT_MODES),
    chatSlowModeSeconds: z.number().int(),
    status: z.enum(statuses),
    scheduledAt: z.string().nullable(),
    reconnectWindowSeconds: z.number().int(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    viewers: z.number().int(),
    peakViewers: z.number().int(),
    uniqueViewers: z.number().int().openapi({ description: 'Distinct viewers (users, or devices when anonymous) seen while on air' }),
    playbackUrl: z
      .string()
      .nullable()
      .openapi({ description: 'Live HLS while the stream is on air; an age-restricted stream’s carries a playback token (signed-in viewers only) that its playlist passes on to its segments' }),
    vodVideoId: z.uuid().nullable(),
    thumbnailUrl: z
      .string()
      .nullable()
      .openapi({
        description:
          'A still of the live picture, taken about every minute while on air (the last one stays after the end); null until the first is taken, and for anonymous viewers of an age-restricted stream. Its `?v=` changes with each new image',
      }),
    likeCount: z.number().int().min(0),
    likedByMe: z.boolean().nullable().openapi({ description: 'Whether the signed-in viewer likes it; null for anonymous viewers' }),
    streamKeyPrefix: z.string().optional().openapi({ description: 'Owner only: the first characters of the current key' }),
    createdAt: z.string(),
    webUrl: z.string().openapi({ description: 'The watch page in the web app' }),
  })
  .openapi('Stream');

const keySchema = z.object({ streamKey: z.string(), ingestUrl: z.string() });

const cursorSchema = timeKeyCursorSchema.extend({ live: z.boolean() });

export function streamRoutes(deps: StreamRouteDeps) {
  const { config, db, temporal } = deps;
  const router = createRouter();
  const web = webLinks(config.publicUrls.web);

  const livePlayback = createPlaybackSigner(config.auth.jwtSecret, 'live');
  /**
   * A live stream under an age restriction plays only for signed-in viewers, with a token nginx
   * checks on every HLS file (api/internal/hls-access.ts). Its expiry is rounded up to the hour,
   * so reading the stream again within the hour gives the same URL and the player goes on.
   */
  const liveToken = (s: Stream) => livePlayback.sign(s.id, new Date(Math.ceil((Date.now() + config.videos.playbackUrlTtlSeconds * 1000) / 3_600_000) * 3_600_000));
  const playbackUrl = (s: Stream, signedIn: boolean) => {
    if (!LIVE_STATUSES.includes(s.status) || (!signedIn && s.age_restricted_at)) return null;
    const url = `${config.publicUrls.hls}/${s.id}.m3u8`;
    return s.age_restricted_at ? `${url}?token=${liveToken(s)}` : url;
  };
  /**
   * The API's thumbnail route (a redirect to S3), versioned by the image's time so caches follow
   * each new one. An image element sends no bearer token, so a restricted stream's carries the
   * same playback token as its HLS.
   */
  const thumbnailUrl = (s: Stream, signedIn: boolean) => {
    if (!s.thumbnail_at || (!signedIn && s.age_restricted_at)) return null;
    const url = `${config.publicUrls.api}/api/v1/streams/${s.id}/thumbnail.jpg?v=${s.thumbnail_at.getTime()}`;
    return s.age_restricted_at ? `${url}&token=${liveToken(s)}` : url;
  };
  /** `likedByMe`: null for anonymous viewers (and the owner's own create/update/end answers). */
  const view = (s: Stream, ownerView: boolean, signedIn: boolean, likedByMe: boolean | null = null) => ({
    id: s.id,
    ownerId: s.owner_id,
    title: s.title,
    description: s.description,
    categoryId: s.category_id,
    visibility: s.visibility,
    mature: s.mature,
    ageRestricted: s.age_restricted_at !== null,
    chatMode: s.chat_mode,
    chatSlowModeSeconds: s.chat_slow_mode_seconds,
    status: s.status,
    scheduledAt: s.scheduled_at?.toISOString() ?? null,
    reconnectWindowSeconds: s.reconnect_window_seconds,
    startedAt: s.started_at?.toISOString() ?? null,
    endedAt: s.ended_at?.toISOString() ?? null,
    viewers: s.current_viewers,
    peakViewers: s.peak_viewers,
    uniqueViewers: s.unique_viewers,
    playbackUrl: playbackUrl(s, signedIn),
    vodVideoId: s.vod_video_id,
    thumbnailUrl: thumbnailUrl(s, signedIn),
    likeCount: s.like_count,
    likedByMe,
    ...(ownerView ? { streamKeyPrefix: s.stream_key_prefix } : {}),
    createdAt: s.created_at.toISOString(),
    webUrl: web.stream(s.id),
  });

  const requireActiveCategory = async (categoryId: string | null | undefined) => {
    if (!categoryId) return;
    const category = await db.selectFrom('categories').select('id').where('id', '=', categoryId).where('is_active', '=', true).executeTakeFirst();
    if (!category) throw new AppError('validation_failed', 'No such category', [{ field: 'categoryId', message: 'unknown category' }]);
  };

  /** A title or description holding a `hold` watched word: accepted, and a case opened about the stream. */
  const signalHeld = (s: Stream, held: HeldField[]) =>
    fileWatchedSignals(deps, { targetType: 'stream', targetId: s.id, ownerId: s.owner_id, live: LIVE_STATUSES.includes(s.status), snapshot: { title: s.title, description: s.description, status: s.status } }, held);

  /** The stream, if the caller owns it (or is an admin). */
  const ownStream = async (id: string, auth: ReturnType<typeof currentUser>) => {
    const stream = await findStream(db, id);
    if (!ownerOrAdmin(auth, stream.owner_id)) throw new AppError('forbidden', 'Only the owner can do this');
    return stream;
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['streams'],
      summary: 'Create a stream; returns its RTMP key (shown only now and at rotation)',
      ...signedIn,
      middleware: [
        requireAuth,
        rateLimit(db, { name: 'stream-create', limit: 20, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: {
        body: jsonBody(
          z
            .object({
              title: z.string().trim().min(1).max(140),
              description: z.string().max(5000).default(''),
              categoryId: z.uuid().nullable().default(null),
              scheduledAt: z.iso.datetime({ offset: true }).nullable().default(null),
              reconnectWindowSeconds: z.number().int().min(0).max(1800).default(60),
              visibility: z.enum(['public', 'unlisted']).default('public'),
              mature: z.boolean().default(false),
              chatMode: z.enum(CHAT_MODES).default('everyone'),
            })
            .strict(),
        ),
      },
      responses: {
        201: enveloped(streamSchema.extend(keySchema.shape), 'Created; point the encoder at `ingestUrl` with `streamKey`'),
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 429: 'Too many streams', 503: 'Retry later' }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const scheduledAt = body.scheduledAt ? new Date(body.scheduledAt) : null;
      if (scheduledAt && scheduledAt.getTime() < Date.now()) throw new AppError('validation_failed', 'scheduledAt is in the past', [{ field: 'scheduledAt', message: 'must be in the future' }]);
      await requireActiveCategory(body.categoryId);
      const held = await screenWatched(db, currentUser(c).userId, { title: body.title, description: body.description });
      const { stream, streamKey } = await createStream(db, temporal, config.streams, currentUser(c).userId, { ...body, scheduledAt });
      await signalHeld(stream, held);
      return c.json(ok({ ...view(stream, true, true), streamKey, ingestUrl: config.publicUrls.rtmp }), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['streams'],
      summary: 'Public streams, live ones first',
      description:
        'Without `ownerId`: every public stream. With `ownerId`: that owner’s public streams; the owner themself (or an admin) gets all of them, unlisted ones included, with `streamKeyPrefix`.',
      request: {
        query: pageQuerySchema.extend({
          status: z.enum(statuses).optional(),
          categoryId: z.uuid().optional(),
          ownerId: z.uuid().optional(),
          followed: z.enum(['true', 'false']).optional().openapi({ description: '`true`: only channels you follow (signed in; 401 otherwise)' }),
        }),
      },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(streamSchema) } } },
        ...errorResponses({ 400: 'Invalid filter or cursor', 401: '`followed=true` without signing in' }),
      },
    }),
    async (c) => {
      const { limit, cursor, status, categoryId, ownerId, followed } = c.req.valid('query');
      const auth = c.get('auth');
      if (followed === 'true' && !auth) throw new AppError('unauthorized', 'Sign in to list the channels you follow');
      const all = ownerId !== undefined && ownerOrAdmin(auth, ownerId);
      const rows = await listStreams(db, { status, categoryId, ownerId, all, followedBy: followed === 'true' ? auth!.userId : undefined }, limit, decodeCursor(cursor, cursorSchema));
      const liked = await likedByUser(db, 'stream', rows.slice(0, limit).map((r) => r.id), auth?.userId);
      return c.json(page(rows, limit, (r) => view(r, all, auth !== undefined, auth ? liked.has(r.id) : null), (r) => ({ live: r.is_live, at: r.created_key, id: r.id })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['streams'],
      summary: 'A stream: status, viewers, live playback URL, VOD once it exists',
      request: { params: uuidParam },
      responses: { 200: enveloped(streamSchema, 'The stream'), ...errorResponses({ 404: 'No such stream' }) },
    }),
    async (c) => {
      const stream = await findStream(db, c.req.valid('param').id);
      const auth = c.get('auth');
      const likedByMe = auth ? (await likedByUser(db, 'stream', [stream.id], auth.userId)).has(stream.id) : null;
      return c.json(ok(view(stream, ownerOrAdmin(auth, stream.owner_id), auth !== undefined, likedByMe)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/thumbnail.jpg',
      tags: ['streams'],
      summary: 'The live thumbnail: a redirect to a short-lived image URL',
      description:
        'Use the stream’s `thumbnailUrl`, which changes with each new image. An age-restricted stream’s needs its `token` (in `thumbnailUrl` for signed-in viewers) or a signed-in caller: 403 `age_restricted` otherwise. 404 until a first thumbnail is taken.',
      request: { params: uuidParam, query: z.object({ v: z.string().max(20).optional(), token: z.string().max(100).optional() }) },
      responses: {
        302: { description: 'To the image (a presigned S3 URL valid for PLAYBACK_URL_TTL_SECONDS)' },
        ...errorResponses({ 403: 'Age-restricted: sign in', 404: 'No such stream, or no thumbnail yet' }),
      },
    }),
    async (c) => {
      const stream = await findStream(db, c.req.valid('param').id);
      if (!stream.thumbnail_key) throw new AppError('not_found', 'This stream has no thumbnail yet');
      if (stream.age_restricted_at && !c.get('auth') && !livePlayback.verify(stream.id, c.req.valid('query').token)) throw new AppError('forbidden', 'This stream is age-restricted: sign in to see it', { reason: 'age_restricted' });
      const ttl = config.videos.playbackUrlTtlSeconds;
      // Private to the browser: the signed URL in the Location lives only `ttl` seconds.
      c.header('cache-control', `private, max-age=${Math.min(ttl, 300)}`);
      return c.redirect(await presignGet(deps.storage, stream.thumbnail_key, ttl, 'public'), 302);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['streams'],
      summary: 'Change title, description or category (through the stream workflow)',
      ...signedIn,
      request: {
        params: uuidParam,
        body: jsonBody(
          z
            .object({ title: z.string().trim().min(1).max(140).optional(), description: z.string().max(5000).optional(), categoryId: z.uuid().nullable().optional() })
            .strict(),
        ),
      },
      responses: { 200: enveloped(streamSchema, 'Updated'), ...errorResponses({ 400: 'Invalid fields', 403: 'Not your stream', 404: 'No such stream', 409: 'The stream has ended' }) },
    }),
    async (c) => {
      const stream = await ownStream(c.req.valid('param').id, currentUser(c));
      await requireActiveCategory(c.req.valid('json').categoryId);
      const held = await screenWatched(db, stream.owner_id, { title: c.req.valid('json').title, description: c.req.valid('json').description });
      let info: { title: string; description: string; categoryId: string | null };
      try {
        info = await temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).executeUpdate(updateInfoUpdate, { args: [c.req.valid('json')] });
      } catch (err) {
        // The validator's refusal is ours to show; anything else from Temporal is internal.
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
          throw new AppError('conflict', `The stream cannot be changed: ${err.cause.message}`);
        }
        if (err instanceof WorkflowNotFoundError) throw new AppError('conflict', 'The stream is already over');
        throw err;
      }
      // The update answers with the row's new info; nothing else the view shows changed.
      const updated = { ...stream, title: info.title, description: info.description, category_id: info.categoryId };
      await signalHeld(updated, held);
      return c.json(ok(view(updated, true, true)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/key/rotate',
      tags: ['streams'],
      summary: 'Replace the stream key (refused while live)',
      ...signedIn,
      request: { params: uuidParam },
      responses: { 200: enveloped(keySchema, 'The new key, shown only now'), ...errorResponses({ 403: 'Not your stream', 404: 'No such stream', 409: 'Live or ended' }) },
    }),
    async (c) => {
      const stream = await ownStream(c.req.valid('param').id, currentUser(c));
      return c.json(ok({ streamKey: await rotateStreamKey(db, stream.id), ingestUrl: config.publicUrls.rtmp }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/end',
      tags: ['streams'],
      summary: 'End the stream now: the encoder is cut off and the recording becomes a VOD',
      ...signedIn,
      request: { params: uuidParam },
      responses: { 202: enveloped(streamSchema, 'Ending'), ...errorResponses({ 403: 'Not your stream', 404: 'No such stream', 409: 'Already over' }) },
    }),
    async (c) => {
      const stream = await ownStream(c.req.valid('param').id, currentUser(c));
      if (FINISHED_STATUSES.includes(stream.status)) throw new AppError('conflict', `The stream has ${stream.status}`);
      try {
        await temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).signal(endStreamSignal);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new AppError('conflict', 'The stream is already over');
        throw err;
      }
      return c.json(ok(view(stream, true, true)), 202);
    },
  );

  return router;
}
