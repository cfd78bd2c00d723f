import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import type { Storage } from '../../lib/s3.ts';
import { AppError } from '../../lib/errors.ts';
import { DEVICE_ID_PATTERN, resumeAt, viewerKey } from '../../lib/views.ts';
import type { AppEnv } from '../context.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { localRateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { likedByUser } from '../likes/service.ts';
import { findWatchableVideo, videoCategories } from '../videos/service.ts';
import { channelsWithPerks } from '../../lib/subscriptions/perks.ts';
import { createPlaybackSigner } from '../videos/playback.ts';
import { createVideoLinks, videoSchema } from '../videos/view.ts';
import { listHistory, recordHeartbeat, removeHistory } from './service.ts';

// A week: longer than any video (MEDIA_MAX_DURATION_SECONDS, 12 h by default), so nonsense is refused.
const MAX_POSITION_SECONDS = 7 * 86_400;

const heartbeatSchema = z
  .object({
    positionSeconds: z.number().min(0).max(MAX_POSITION_SECONDS).openapi({ description: 'Where playback is now, in seconds' }),
    deviceId: z
      .string()
      .regex(DEVICE_ID_PATTERN)
      .optional()
      .openapi({ description: 'Anonymous players: a random id kept on the device (8–64 of A–Z a–z 0–9 _ -); ignored when signed in' }),
  })
  .strict();

const historyItemSchema = z
  .object({
    videoId: z.uuid(),
    positionSeconds: z.number().min(0),
    resumeAtSeconds: z.number().nullable().openapi({ description: 'Where playing it again resumes; null when finished' }),
    watchedAt: z.string(),
    video: videoSchema,
  })
  .openapi('HistoryItem');

const removedSchema = z.object({ removed: z.number().int().min(0).openapi({ description: 'History entries removed' }) });

/** The raw body's device id, for the rate limit's subject (validation refuses a bad one later). */
async function rawDeviceId(c: Context<AppEnv>): Promise<unknown> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === 'object' && body !== null ? (body as { deviceId?: unknown }).deviceId : undefined;
}

const viewerOf = async (c: Context<AppEnv>) => viewerKey({ userId: c.get('auth')?.userId, deviceId: await rawDeviceId(c), clientAddress: c.get('clientIp') });

/**
 * The player's heartbeat (`POST /videos/{id}/views`) and a signed-in viewer's watch history.
 * Heartbeats are limited per viewer in each API process's memory: a refused one only loses a
 * position update, and a view counts once per window whatever the rate.
 */
export function viewRoutes(deps: { config: Config; db: Db; storage: Storage }) {
  const { db } = deps;
  const links = createVideoLinks(deps.config, deps.storage, createPlaybackSigner(deps.config.auth.jwtSecret));
  const { windowSeconds, heartbeatsPerMinute, anonymousHeartbeatsPerAddressPerMinute } = deps.config.views;
  const router = createRouter();
  const perViewer = localRateLimit({ name: 'view-heartbeats', limit: heartbeatsPerMinute, windowSeconds: 60, subjects: async (c) => [await viewerOf(c)] });
  // Device ids are the client's word: one address making up new ones is held to this.
  const perAddress = localRateLimit({
    name: 'anonymous-view-heartbeats',
    limit: anonymousHeartbeatsPerAddressPerMinute,
    windowSeconds: 60,
    subjects: (c) => (c.get('auth') ? [] : [c.get('clientIp')]),
  });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/videos/{id}/views',
      tags: ['views'],
      summary: 'Player heartbeat: counts a view (at most once per viewer per window) and records where a signed-in viewer is',
      description:
        'Send when playback starts, every ~15 s while playing, on pause and on leaving. The viewer is the signed-in user, else `deviceId`, else the client address. ' +
        'A view counts when that viewer has no counted view of this video in the last `VIEW_WINDOW_SECONDS` (300). ' +
        'Limited to `RATE_LIMIT_VIEW_HEARTBEATS_PER_MINUTE` per viewer, and anonymous heartbeats to `RATE_LIMIT_ANONYMOUS_VIEW_HEARTBEATS_PER_ADDRESS_PER_MINUTE` per address.',
      middleware: [perAddress, perViewer],
      request: { params: uuidParam, body: jsonBody(heartbeatSchema) },
      responses: {
        200: enveloped(z.object({ counted: z.boolean().openapi({ description: 'Whether this heartbeat counted a view' }) }), 'Recorded'),
        ...errorResponses({
          400: 'Invalid fields',
          403: 'Age-restricted and not signed in, account suspended or banned, or a subscriber-only video you may not watch (`subscribers_only`)',
          404: 'No such video, or not yours to see',
          409: 'The video is not ready to play',
          429: 'Too many heartbeats',
        }),
      },
    }),
    async (c) => {
      const auth = c.get('auth');
      const video = await findWatchableVideo(db, c.req.valid('param').id, auth);
      if (video.status !== 'ready') throw new AppError('conflict', `The video is ${video.status}, not ready to play`);
      if (video.age_restricted_at && !auth) throw new AppError('forbidden', 'This video is age-restricted: sign in to watch it', { reason: 'age_restricted' });
      const { positionSeconds } = c.req.valid('json');
      const result = await recordHeartbeat(db, { videoId: video.id, viewer: await viewerOf(c), userId: auth?.userId, positionSeconds, windowSeconds });
      return c.json(ok(result), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/users/me/history',
      tags: ['views'],
      summary: 'Your watch history, most recently watched first',
      description: 'One entry per video, with your last position. Videos you may no longer see (deleted, made private, hidden by moderation) are left out.',
      ...signedIn,
      request: { query: pageQuerySchema },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(historyItemSchema) } } },
        ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Account suspended or banned' }),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listHistory(db, currentUser(c), limit, decodeCursor(cursor, timeKeyCursorSchema));
      const shown = page(rows, limit, (r) => r, (r) => ({ at: r.watched_key, id: r.id }));
      const me = currentUser(c).userId;
      const subscriberOnly = shown.data.filter((r) => r.visibility === 'subscribers' && r.owner_id !== me).map((r) => r.owner_id);
      const [liked, categories, perks] = await Promise.all([
        likedByUser(db, 'video', shown.data.map((r) => r.id), me),
        videoCategories(db, shown.data),
        channelsWithPerks(db, me, subscriberOnly),
      ]);
      const admin = currentUser(c).role === 'admin';
      const data = await Promise.all(
        shown.data.map(async (r) => ({
          videoId: r.id,
          positionSeconds: r.position_seconds,
          resumeAtSeconds: resumeAt(r.position_seconds, r.duration_seconds),
          watchedAt: r.watched_at.toISOString(),
          video: await links.view(r, true, liked.has(r.id), categories, admin || r.owner_id === me || perks.has(r.owner_id)),
        })),
      );
      return c.json({ ...shown, data }, 200);
    },
  );

  for (const one of [true, false]) {
    router.openapi(
      createRoute({
        method: 'delete',
        path: one ? '/users/me/history/{id}' : '/users/me/history',
        tags: ['views'],
        summary: one ? 'Remove one video from your history (and its resume position); idempotent' : 'Clear your whole history (and every resume position)',
        ...signedIn,
        request: one ? { params: uuidParam } : {},
        responses: {
          200: enveloped(removedSchema, 'Removed'),
          ...errorResponses(one ? { 400: 'Invalid video id', 401: 'Not signed in', 403: 'Account suspended or banned' } : { 401: 'Not signed in', 403: 'Account suspended or banned' }),
        },
      }),
      async (c) => {
        const videoId = one ? (c.req.param('id') as string) : undefined;
        return c.json(ok({ removed: await removeHistory(db, currentUser(c).userId, videoId) }), 200);
      },
    );
  }

  return router;
}
