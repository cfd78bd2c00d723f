import { createRoute, z } from '@hono/zod-openapi';
import { decodeCursor, errorResponses, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { ownerOrAdmin } from '../middleware/auth.ts';
import { idOrUsername } from '../users/routes.ts';
import { findProfile } from '../users/service.ts';
import { hasChannelPerks } from '../../lib/subscriptions/perks.ts';
import { createPlaybackSigner } from './playback.ts';
import type { VideoRouteDeps } from './routes.ts';
import { listMostViewedVideos, listVideos, presentVideos, type VideoListFilter } from './service.ts';
import { createVideoLinks, videoSchema } from './view.ts';

const viewsCursorSchema = z.object({ views: z.number().int().min(0), id: z.uuid() });

const channelQuery = pageQuerySchema.extend({
  sort: z.enum(['newest', 'most_viewed']).default('newest').openapi({ description: '`newest` (created, then id) or `most_viewed` (views, then id)' }),
  source: z.enum(['upload', 'recording']).optional().openapi({ description: '`upload`: uploaded videos; `recording`: past broadcasts (recordings of ended streams); both when left out' }),
});

/** `GET /users/{id}/videos`: a channel's videos, by the reading rules of `GET /videos?ownerId=`. */
export function channelVideoRoutes(deps: Pick<VideoRouteDeps, 'config' | 'db' | 'storage'>) {
  const { db } = deps;
  const links = createVideoLinks(deps.config, deps.storage, createPlaybackSigner(deps.config.auth.jwtSecret));
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/videos',
      tags: ['videos', 'users'],
      summary: "A channel's videos: public and subscriber-only ready ones, or all of them for the owner (and admins)",
      description:
        'Keyset pages. A cursor belongs to its `sort` (and filters): a cursor of another sort is 400. Private, unlisted, unfinished and hidden videos are listed only to the owner or an admin. Subscriber-only videos are listed to everyone (`visibility: subscribers`), with playback and storyboard URLs only for the owner, admins and the channel\'s subscribers.',
      request: { params: idOrUsername, query: channelQuery },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(videoSchema) } } },
        ...errorResponses({ 400: 'Invalid sort, filter or cursor', 404: 'No such user' }),
      },
    }),
    async (c) => {
      const { limit, cursor, sort, source } = c.req.valid('query');
      const owner = await findProfile(db, c.req.valid('param').id);
      const auth = c.get('auth');
      const all = ownerOrAdmin(auth, owner.id);
      const filter: VideoListFilter = { ownerId: owner.id, all, withSubscriberOnly: true, source };
      const shown =
        sort === 'newest'
          ? page(await listVideos(db, filter, limit, decodeCursor(cursor, timeKeyCursorSchema)), limit, (r) => r, (r) => ({ at: r.created_key, id: r.id }))
          : page(await listMostViewedVideos(db, filter, limit, decodeCursor(cursor, viewsCursorSchema)), limit, (r) => r, (r) => ({ views: r.view_count, id: r.id }));
      // Subscriber-only videos are listed to everyone; their playback URLs go only to those who may watch them.
      const access = all || (shown.data.some((r) => r.visibility === 'subscribers') && auth !== undefined && (await hasChannelPerks(db, auth.userId, owner.id)));
      const data = await presentVideos(db, links, shown.data, auth, access);
      return c.json({ ...shown, data }, 200);
    },
  );

  return router;
}
