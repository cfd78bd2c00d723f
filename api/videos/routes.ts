import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { fileWatchedSignals } from '../../lib/moderation/signals.ts';
import { screenWatched } from '../../lib/moderation/watched-store.ts';
import type { Nats } from '../../lib/nats.ts';
import { AppError } from '../../lib/errors.ts';
import { playlistUris, rewritePlaylistUris } from '../../lib/hls.ts';
import { deleteObject, headObject, presignGet, presignPut, readObjectText, type Storage } from '../../lib/s3.ts';
import type { Video } from '../../lib/schema.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { VIDEO_VISIBILITIES, videoPaths } from '../../lib/videos.ts';
import type { AppEnv } from '../context.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { likedByUser } from '../likes/service.ts';
import { viewState } from '../views/service.ts';
import { resumeAt } from '../../lib/views.ts';
import { createPlaybackSigner } from './playback.ts';
import { checkPosterTime, normalizeTags, requireActiveCategory, startPosterRegeneration, updateVideo, videoChangesSchema } from './edit.ts';
import { assertSubscriberAccess, beginProcessing, canView, createUpload, findManagedVideo, findVideo, findWatchableVideo, listVideos, markDeleted, presentVideos, startRemoval, startTranscode, videoCategories } from './service.ts';
import { createVideoLinks, videoSchema } from './view.ts';

export interface VideoRouteDeps {
  config: Config;
  db: Db;
  nats: Nats;
  storage: Storage;
  temporal: Temporal;
}

const tokenQuery = z.object({ token: z.string().max(200).optional().openapi({ description: 'Playback token from `playbackUrl`' }) });
const HLS = 'application/vnd.apple.mpegurl';
const STORYBOARD_SPRITE = 'storyboard.jpg';

const newVideoSchema = z
  .object({
    title: z.string().trim().min(1).max(100),
    description: z.string().max(5000).default(''),
    visibility: z.enum(VIDEO_VISIBILITIES).default('public'),
    sizeBytes: z.number().int().min(1).optional().openapi({ description: 'Size of the file you will upload; refused early when over the limit' }),
  })
  .strict();

const uploadSchema = z.object({
  video: videoSchema,
  uploadUrl: z.string().openapi({ description: 'PUT the file here (one request, the raw bytes)' }),
  uploadExpiresAt: z.string(),
  maxUploadBytes: z.number().int(),
});

export function videoRoutes(deps: VideoRouteDeps) {
  const { config, db, storage, temporal } = deps;
  const playback = createPlaybackSigner(config.auth.jwtSecret);
  const links = createVideoLinks(config, storage, playback);
  const router = createRouter();

  /** Starts the transcode; Temporal being unreachable is a 503, and `complete` starts it again. */
  const startOrUnavailable = (c: Context<AppEnv>, video: Video, mode: 'first' | 'retry') =>
    startTranscode(temporal, video, mode, config.videos.maxUploadBytes).catch((err: unknown) => {
      c.get('log').error({ err, videoId: video.id }, 'could not start the transcode');
      throw new AppError('unavailable', 'Could not start transcoding; call complete to try again');
    });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['videos'],
      summary: 'Create a video and get a presigned URL to upload its file to',
      description:
        'Send an `Idempotency-Key` header to make retries safe: the same key returns the same video (with a fresh upload URL). After the PUT succeeds, call `POST /videos/{id}/complete`.',
      ...signedIn,
      middleware: [
        requireAuth,
        rateLimit(db, { name: 'video-upload', limit: config.videos.uploadsPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: {
        headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
        body: jsonBody(newVideoSchema),
      },
      responses: {
        201: enveloped(uploadSchema, 'Created; upload the file to `uploadUrl`'),
        200: enveloped(uploadSchema, 'The video an earlier request with this Idempotency-Key created'),
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 409: 'The key was used for a video past uploading', 413: 'Declared size over the limit', 429: 'Too many uploads' }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.sizeBytes !== undefined && body.sizeBytes > config.videos.maxUploadBytes) {
        throw new AppError('payload_too_large', `Videos may be at most ${config.videos.maxUploadBytes} bytes`);
      }
      const held = await screenWatched(db, currentUser(c).userId, { title: body.title, description: body.description });
      const { video, created } = await createUpload(db, {
        ownerId: currentUser(c).userId,
        title: body.title,
        description: body.description,
        visibility: body.visibility,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      });
      if (video.status !== 'uploading' || video.deleted_at) {
        throw new AppError('conflict', `The video this Idempotency-Key created is ${video.deleted_at ? 'deleted' : video.status}; use a new key`);
      }
      // A `hold` word in the title or description: the video is created and a case opened about it (once, not on a replay).
      if (created) await fileWatchedSignals(deps, { targetType: 'video', targetId: video.id, ownerId: video.owner_id, live: false, snapshot: { title: video.title, description: video.description, status: video.status, visibility: video.visibility } }, held);
      const ttl = config.videos.uploadUrlTtlSeconds;
      const upload = {
        video: await links.view(video, true, null, await videoCategories(db, [video]), true),
        uploadUrl: await presignPut(storage, video.source_key, ttl),
        uploadExpiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
        maxUploadBytes: config.videos.maxUploadBytes,
      };
      return created ? c.json(ok(upload), 201) : c.json(ok(upload), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/complete',
      tags: ['videos'],
      summary: 'Tell the platform the upload finished; starts the transcode',
      description: 'Safe to retry: a video already processing answers 202 again without a second transcode.',
      ...signedIn,
      request: { params: uuidParam },
      responses: {
        202: enveloped(videoSchema, 'Transcoding; follow `progress` on GET /videos/{id}'),
        ...errorResponses({
          401: 'Not signed in',
          403: 'Not your video',
          404: 'No such video',
          409: 'Nothing uploaded yet, or the video is past uploading',
          413: 'The uploaded file is over the size limit (it was deleted; upload a smaller one)',
          422: 'The uploaded file is empty',
          503: 'The workflow service is unavailable; retry',
        }),
      },
    }),
    async (c) => {
      const video = await findManagedVideo(db, c.req.valid('param').id, c.get('auth'));
      if (video.status === 'processing') {
        await startOrUnavailable(c, video, 'first');
        return c.json(ok(await links.view(video, true, null, await videoCategories(db, [video]), true)), 202);
      }
      if (video.status !== 'uploading') throw new AppError('conflict', `The video is already ${video.status}`);
      const head = await headObject(storage, video.source_key);
      if (!head) throw new AppError('conflict', 'Nothing has been uploaded yet: PUT the file to uploadUrl first');
      if (head.sizeBytes > config.videos.maxUploadBytes) {
        await deleteObject(storage, video.source_key);
        throw new AppError('payload_too_large', `The file is ${head.sizeBytes} bytes; videos may be at most ${config.videos.maxUploadBytes} bytes`);
      }
      if (head.sizeBytes === 0) throw new AppError('invalid_media', 'The uploaded file is empty; upload it again');
      const processing = await beginProcessing(db, video.id, 'uploading', head.sizeBytes);
      // Lost a race with a concurrent `complete`, which started (or is starting) the transcode.
      const current = processing ?? (await findManagedVideo(db, video.id, c.get('auth')));
      if (current.status === 'processing') await startOrUnavailable(c, current, 'first');
      return c.json(ok(await links.view(current, true, null, await videoCategories(db, [current]), true)), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['videos'],
      summary: 'Videos, newest first: public ready ones, or all of your own',
      description:
        'Without `ownerId`: every public ready video. With `ownerId`: that owner’s public ready videos; the owner themself (or an admin) gets all of them, whatever their status or visibility.',
      request: { query: pageQuerySchema.extend({ ownerId: z.uuid().optional() }) },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(videoSchema) } } }, ...errorResponses({ 400: 'Invalid filter or cursor' }) },
    }),
    async (c) => {
      const { limit, cursor, ownerId } = c.req.valid('query');
      const auth = c.get('auth');
      const all = ownerId !== undefined && (auth?.userId === ownerId || auth?.role === 'admin');
      const rows = await listVideos(db, { ownerId, all }, limit, decodeCursor(cursor, timeKeyCursorSchema));
      const shown = page(rows, limit, (r) => r, (r) => ({ at: r.created_key, id: r.id }));
      return c.json({ ...shown, data: await presentVideos(db, links, shown.data, auth, all) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['videos'],
      summary: 'A video: status, progress, renditions, playback URLs, tags, category, likes, its exact view count and where you left off',
      request: { params: uuidParam },
      responses: {
        200: enveloped(videoSchema, 'The video'),
        ...errorResponses({ 403: "`subscribers_only`: a subscriber-only video, and you are not a subscriber of its channel", 404: 'No such video, or not yours to see' }),
      },
    }),
    async (c) => {
      const auth = c.get('auth');
      const video = await findWatchableVideo(db, c.req.valid('param').id, auth);
      const likedByMe = auth ? (await likedByUser(db, 'video', [video.id], auth.userId)).has(video.id) : null;
      const views = await viewState(db, video.id, auth?.userId);
      const resumeAtSeconds = resumeAt(views.positionSeconds, video.duration_seconds);
      return c.json(ok({ ...(await links.view(video, auth !== undefined, likedByMe, await videoCategories(db, [video]), true)), viewCount: views.viewCount, resumeAtSeconds }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['videos'],
      summary: 'Change title, description, visibility, category, tags or the poster time (owner or admin)',
      description:
        'Fields left out stay as they are. Tags are trimmed, lower-cased and deduplicated (at most 20, each 1–30 characters). `thumbnailAtSeconds` takes the poster again from that time in the `video/<id>/poster` workflow: `thumbnailUrl` changes once it has run. Counts against `RATE_LIMIT_VIDEO_EDITS_PER_HOUR` per user.',
      ...signedIn,
      middleware: [
        requireAuth,
        rateLimit(db, { name: 'video-edit', limit: config.videos.editsPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: { params: uuidParam, body: jsonBody(videoChangesSchema) },
      responses: {
        200: enveloped(videoSchema, 'The video as changed (a new poster follows when its workflow has run)'),
        ...errorResponses({
          400: 'Invalid or unknown fields',
          401: 'Not signed in',
          403: 'Not your video',
          404: 'No such video',
          422: 'A tag, the category or the poster time breaks a rule (details name the field)',
          429: 'Too many edits',
          503: 'The workflow service is unavailable; retry',
        }),
      },
    }),
    async (c) => {
      const video = await findManagedVideo(db, c.req.valid('param').id, c.get('auth'));
      const body = c.req.valid('json');
      const tags = body.tags === undefined ? undefined : normalizeTags(body.tags);
      await requireActiveCategory(db, body.categoryId);
      if (body.thumbnailAtSeconds !== undefined) checkPosterTime(video, body.thumbnailAtSeconds);
      const held = await screenWatched(db, video.owner_id, { title: body.title, description: body.description, tags: tags?.join(' ') });
      const updated = await updateVideo(db, video.id, { ...body, tags });
      if (body.thumbnailAtSeconds !== undefined) {
        // The time is stored: retrying this request starts the workflow again.
        await startPosterRegeneration(temporal, updated, body.thumbnailAtSeconds).catch((err: unknown) => {
          c.get('log').error({ err, videoId: video.id }, 'could not start the poster workflow');
          throw new AppError('unavailable', 'Could not start taking the poster; send the request again');
        });
      }
      await fileWatchedSignals(
        deps,
        { targetType: 'video', targetId: updated.id, ownerId: updated.owner_id, live: false, snapshot: { title: updated.title, description: updated.description, status: updated.status, visibility: updated.visibility } },
        held,
      );
      const likedByMe = (await likedByUser(db, 'video', [updated.id], currentUser(c).userId)).has(updated.id);
      return c.json(ok(await links.view(updated, true, likedByMe, await videoCategories(db, [updated]), true)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/retry',
      tags: ['videos'],
      summary: 'Transcode a failed video again (owner or admin)',
      ...signedIn,
      request: { params: uuidParam },
      responses: {
        202: enveloped(videoSchema, 'Transcoding again'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not your video', 404: 'No such video', 409: 'The video has not failed', 503: 'Retry later' }),
      },
    }),
    async (c) => {
      const video = await findManagedVideo(db, c.req.valid('param').id, c.get('auth'));
      const processing = video.status === 'failed' ? await beginProcessing(db, video.id, 'failed') : undefined;
      if (!processing) throw new AppError('conflict', `Only failed videos can be retried; this one is ${video.status}`);
      await startOrUnavailable(c, processing, 'retry');
      return c.json(ok(await links.view(processing, true, null, await videoCategories(db, [processing]), true)), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags: ['videos'],
      summary: 'Delete a video: stops its transcode and removes its files (owner or admin)',
      ...signedIn,
      request: { params: uuidParam },
      responses: {
        202: enveloped(z.object({ id: z.uuid(), deleted: z.literal(true) }), 'Deleted; files are removed in the background'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not your video', 404: 'No such video', 503: 'Retry later' }),
      },
    }),
    async (c) => {
      const video = await findManagedVideo(db, c.req.valid('param').id, c.get('auth'));
      // The removal workflow is the durable part (it also marks the row); the row is marked
      // here too so the video is gone from the API the moment this answers.
      await startRemoval(temporal, video);
      await markDeleted(db, video.id);
      return c.json(ok({ id: video.id, deleted: true as const }), 202);
    },
  );

  /** A ready video the request may play: public, or with a valid playback token. */
  async function playableVideo(c: Context<AppEnv>, id: string, token: string | undefined): Promise<Video> {
    const video = await findVideo(db, id);
    if (!video || video.status !== 'ready' || !video.master_playlist_key) throw new AppError('not_found', 'No such video');
    // Hidden by moderation: not played to anyone who may not see it, whatever link they hold.
    if (video.moderation_hidden_at && !canView(c.get('auth'), video)) throw new AppError('not_found', 'No such video');
    // Age-restricted: played only to signed-in viewers, whose playback URLs carry a token.
    if (video.age_restricted_at && !c.get('auth') && !playback.verify(video.id, token)) {
      throw new AppError('forbidden', 'This video is age-restricted: sign in to watch it', { reason: 'age_restricted' });
    }
    // A token is only handed out (in `playbackUrl`) to callers who may watch the video.
    if (video.visibility !== 'public' && !playback.verify(video.id, token)) {
      if (!canView(c.get('auth'), video)) throw new AppError('not_found', 'No such video');
      await assertSubscriberAccess(db, c.get('auth'), video);
      throw new AppError('forbidden', 'The playback link is missing its token or has expired; get a fresh playbackUrl');
    }
    return video;
  }

  const playlist = (c: Context<AppEnv>, text: string) => c.body(text, 200, { 'content-type': HLS, 'cache-control': 'private, max-age=60' });
  const mediaResponses = (what: string) => ({
    200: { description: what, content: { [HLS]: { schema: z.string() } } },
    ...errorResponses({ 403: 'Token missing or expired (`subscribers_only` for a subscriber-only video you may not watch)', 404: 'No such video or rendition' }),
  });

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/hls/master.m3u8',
      tags: ['videos'],
      summary: 'HLS master playlist (what `playbackUrl` points at)',
      request: { params: uuidParam, query: tokenQuery },
      responses: mediaResponses('Master playlist'),
    }),
    async (c) => {
      const { token } = c.req.valid('query');
      const video = await playableVideo(c, c.req.valid('param').id, token);
      const text = await readObjectText(storage, video.master_playlist_key!);
      if (text === null) throw new AppError('not_found', 'No such video');
      // Variant URIs stay relative to this playlist and carry the same token.
      return playlist(c, rewritePlaylistUris(text, (uri) => (token ? `${uri}?token=${encodeURIComponent(token)}` : uri)));
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/hls/{rendition}/index.m3u8',
      tags: ['videos'],
      summary: 'HLS media playlist of one rendition, with short-lived segment URLs',
      request: { params: uuidParam.extend({ rendition: z.string().regex(/^[a-z0-9]{1,16}$/) }), query: tokenQuery },
      responses: mediaResponses('Media playlist'),
    }),
    async (c) => {
      const { id, rendition } = c.req.valid('param');
      const video = await playableVideo(c, id, c.req.valid('query').token);
      if (!video.renditions.some((r) => r.name === rendition)) throw new AppError('not_found', 'No such rendition');
      const dir = `${videoPaths(video.id).hls}/${rendition}`;
      const text = await readObjectText(storage, `${dir}/index.m3u8`);
      if (text === null) throw new AppError('not_found', 'No such rendition');
      const ttl = links.segmentUrlTtlSeconds(video);
      const urls = new Map<string, string>();
      for (const uri of new Set(playlistUris(text))) {
        if (!/^[\w.-]+$/.test(uri)) throw new AppError('internal', 'Unexpected playlist entry');
        urls.set(uri, await presignGet(storage, `${dir}/${uri}`, ttl, 'public'));
      }
      return playlist(c, rewritePlaylistUris(text, (uri) => urls.get(uri)!));
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/storyboard.vtt',
      tags: ['videos'],
      summary: 'WebVTT thumbnail track: sprite tiles for scrubbing previews',
      request: { params: uuidParam, query: tokenQuery },
      responses: {
        200: { description: 'WebVTT', content: { 'text/vtt': { schema: z.string() } } },
        ...errorResponses({ 403: 'Token missing or expired', 404: 'No such video' }),
      },
    }),
    async (c) => {
      const video = await playableVideo(c, c.req.valid('param').id, c.req.valid('query').token);
      const key = video.storyboard_key;
      const text = key ? await readObjectText(storage, key) : null;
      if (!key || text === null) throw new AppError('not_found', 'This video has no storyboard');
      // The VTT names its sprite relative to itself (activities/media.ts writes them side by side).
      const spriteKey = key.replace(/[^/]*$/, STORYBOARD_SPRITE);
      const sprite = await presignGet(storage, spriteKey, links.segmentUrlTtlSeconds(video), 'public');
      return c.body(text.replaceAll(`${STORYBOARD_SPRITE}#`, `${sprite}#`), 200, { 'content-type': 'text/vtt', 'cache-control': 'private, max-age=60' });
    },
  );

  return router;
}
