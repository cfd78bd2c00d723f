import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { enveloped, errorResponses, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { createPlaybackSigner } from '../videos/playback.ts';
import type { VideoRouteDeps } from '../videos/routes.ts';
import { presentVideos } from '../videos/service.ts';
import { createVideoLinks, videoSchema } from '../videos/view.ts';

export const MAX_TRENDING = 50;

const trendingQuery = z.object({
  category: z.uuid().optional().openapi({ description: 'Only videos of this category' }),
  limit: z.coerce.number().int().min(1).max(MAX_TRENDING).default(24).openapi({ description: `How many, at most ${MAX_TRENDING}` }),
});

/**
 * The top of the last recompute, best first. Visibility is checked again here: a video made
 * private, hidden or deleted since the recompute is left out at once.
 */
export async function trendingVideos(db: Db, filter: { categoryId?: string; limit: number }) {
  let query = db
    .selectFrom('video_trending as t')
    .innerJoin('videos as v', 'v.id', 't.video_id')
    .selectAll('v')
    .where('v.status', '=', 'ready')
    .where('v.visibility', '=', 'public')
    .where('v.deleted_at', 'is', null)
    .where('v.moderation_hidden_at', 'is', null);
  if (filter.categoryId) query = query.where('t.category_id', '=', filter.categoryId);
  return query.orderBy('t.score', 'desc').orderBy('t.video_id', 'desc').limit(filter.limit).execute();
}

/** `GET /trending`: the videos whose recent views, likes and comments weigh most (README "Trending"). */
export function trendingRoutes(deps: Pick<VideoRouteDeps, 'config' | 'db' | 'storage'>) {
  const { db } = deps;
  const links = createVideoLinks(deps.config, deps.storage, createPlaybackSigner(deps.config.auth.jwtSecret));
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['videos'],
      summary: 'Trending videos, best first',
      description:
        "Scores are recomputed every five minutes by the `trending` Schedule: each view, like and comment of the last TRENDING_WINDOW_HOURS counts its weight (1, 3, 5) halved every TRENDING_HALF_LIFE_HOURS of age. One list, no pages; public ready videos only, anyone may read it.",
      request: { query: trendingQuery },
      responses: {
        200: enveloped(z.array(videoSchema), 'The trending videos'),
        ...errorResponses({ 400: 'Invalid category or limit' }),
      },
    }),
    async (c) => {
      const { category, limit } = c.req.valid('query');
      const rows = await trendingVideos(db, { categoryId: category, limit });
      return c.json(ok(await presentVideos(db, links, rows, c.get('auth'))), 200);
    },
  );

  return router;
}

