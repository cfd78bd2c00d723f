import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import type { Video } from '../../lib/schema.ts';
import { enveloped, errorResponses, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { createPlaybackSigner } from './playback.ts';
import type { VideoRouteDeps } from './routes.ts';
import { findWatchableVideo, presentVideos } from './service.ts';
import { createVideoLinks, videoSchema } from './view.ts';

/** How many of a video's latest viewers, and of each one's latest videos, co-watch reads. */
export const CO_WATCH_VIEWERS = 200;
export const CO_WATCH_VIDEOS_PER_VIEWER = 50;
/** The most viewed videos of the category that the shared-tags ranking picks from. */
const CATEGORY_CANDIDATES = 100;

const visible = sql<boolean>`v.status = 'ready' and v.visibility = 'public' and v.deleted_at is null and v.moderation_hidden_at is null`;

export type UpNextReason = 'co_watched' | 'same_category';

/**
 * What to watch after `video`: first what its latest viewers watched most (co-watch, "viewers
 * of this also watched"), then the most viewed of its category ranked by tags in common. Every
 * read is an index range bounded by the constants above, so its cost does not grow with the
 * catalogue or the audience.
 */
/**
 * Videos that the latest viewers of `seeds` watched (the 50 latest of each viewer), most shared
 * viewers first: public ready ones, never a seed nor one in `exclude`. `CO_WATCH_VIEWERS`
 * viewers in all, shared out among the seeds; `viewer` is left out of them.
 */
export async function coWatched(db: Db, input: { seeds: string[]; exclude?: string[]; viewer?: string; limit: number }): Promise<Video[]> {
  if (!input.seeds.length) return [];
  const perSeed = Math.max(1, Math.floor(CO_WATCH_VIEWERS / input.seeds.length));
  const skip = [...input.seeds, ...(input.exclude ?? [])];
  const { rows } = await sql<Video & { shared: number }>`
    with viewers as (
      select distinct latest.user_id
      from unnest(${input.seeds}::uuid[]) seed(id)
      cross join lateral (
        select user_id from watch_history where video_id = seed.id and user_id is distinct from ${input.viewer ?? null}::uuid
        order by watched_at desc limit ${perSeed}
      ) latest
    ), watched as (
      select w.video_id, count(*)::int as shared
      from viewers
      cross join lateral (
        select video_id from watch_history h where h.user_id = viewers.user_id
        order by watched_at desc limit ${CO_WATCH_VIDEOS_PER_VIEWER}
      ) w
      where w.video_id <> all(${skip}::uuid[])
      group by w.video_id
    )
    select v.*, watched.shared from watched join videos v on v.id = watched.video_id
    where ${visible}
    order by watched.shared desc, v.view_count desc, v.id desc
    limit ${input.limit}`.execute(db);
  return rows.map(({ shared: _shared, ...row }) => row);
}

export async function upNext(db: Db, video: Pick<Video, 'id' | 'category_id' | 'tags'>, limit: number): Promise<(Video & { reason: UpNextReason })[]> {
  const alsoWatched = await coWatched(db, { seeds: [video.id], limit });
  const picked: (Video & { reason: UpNextReason })[] = alsoWatched.map((row) => ({ ...row, reason: 'co_watched' }));
  if (picked.length >= limit || !video.category_id) return picked;
  const seen = [video.id, ...picked.map((v) => v.id)];
  const sameCategory = await sql<Video>`
    select * from (
      select v.* from videos v
      where v.category_id = ${video.category_id} and ${visible}
      order by v.view_count desc, v.id desc
      limit ${CATEGORY_CANDIDATES}
    ) v
    where v.id <> all(${seen}::uuid[])
    order by cardinality(array(select unnest(v.tags) intersect select unnest(${video.tags}::text[]))) desc, v.view_count desc, v.id desc
    limit ${limit - picked.length}`.execute(db);
  return [...picked, ...sameCategory.rows.map((row) => ({ ...row, reason: 'same_category' as const }))];
}

/** `GET /videos/{id}/up-next`. */
export function upNextRoutes(deps: Pick<VideoRouteDeps, 'config' | 'db' | 'storage'>) {
  const { db } = deps;
  const links = createVideoLinks(deps.config, deps.storage, createPlaybackSigner(deps.config.auth.jwtSecret));
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/up-next',
      tags: ['videos'],
      summary: 'What to watch after this video',
      description:
        'Public ready videos only, never the video itself: first what its latest viewers also watched (`reason: "co_watched"`, most shared viewers first), then the most viewed videos of its category with the most tags in common (`"same_category"`). See README "Up next".',
      request: { params: uuidParam, query: z.object({ limit: z.coerce.number().int().min(1).max(20).default(10) }) },
      responses: {
        200: enveloped(z.array(videoSchema.extend({ reason: z.enum(['co_watched', 'same_category']) })), 'Up next, best first'),
        ...errorResponses({ 400: 'Invalid id or limit', 403: '`subscribers_only`: a subscriber-only video you may not watch', 404: 'No such video, or not one you may see' }),
      },
    }),
    async (c) => {
      const auth = c.get('auth');
      const video = await findWatchableVideo(db, c.req.valid('param').id, auth);
      const rows = await upNext(db, video, c.req.valid('query').limit);
      const shown = await presentVideos(db, links, rows, auth);
      const data = shown.map((v, i) => ({ ...v, reason: rows[i]!.reason }));
      return c.json(ok(data), 200);
    },
  );

  return router;
}
