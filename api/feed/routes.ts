import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import type { Video } from '../../lib/schema.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { enveloped, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { trendingVideos } from '../trending/routes.ts';
import { createPlaybackSigner } from '../videos/playback.ts';
import type { VideoRouteDeps } from '../videos/routes.ts';
import { presentVideos } from '../videos/service.ts';
import { coWatched } from '../videos/up-next.ts';
import { createVideoLinks, videoSchema } from '../videos/view.ts';

/** The newest of each followed channel that the uploads list reads (its cost: one index probe per channel). */
const UPLOADS_PER_CHANNEL = 10;
/** How many of the viewer's latest watched videos seed the recommendations. */
const RECOMMENDATION_SEEDS = 5;
const FEED_SIZE = 24;

export type RecommendationReason = 'co_watched' | 'trending';

/** The newest public videos of the channels `userId` follows, newest first. */
export async function followedUploads(db: Db, userId: string, limit: number): Promise<Video[]> {
  const { rows } = await sql<Video>`
    select v.* from follows f
    cross join lateral (
      select * from videos v
      where v.owner_id = f.followee_id and v.status = 'ready' and v.visibility = 'public' and v.deleted_at is null and v.moderation_hidden_at is null
      order by v.created_at desc, v.id desc limit ${UPLOADS_PER_CHANNEL}
    ) v
    where f.follower_id = ${userId}
    order by v.created_at desc, v.id desc
    limit ${limit}`.execute(db);
  return rows;
}

/**
 * What `userId` might watch: what the viewers of their latest watched videos also watched,
 * then trending; never what they watched already or what `exclude` holds.
 */
export async function recommendations(db: Db, userId: string, exclude: string[], limit: number): Promise<(Video & { reason: RecommendationReason })[]> {
  const history = await db.selectFrom('watch_history').select('video_id').where('user_id', '=', userId).orderBy('watched_at', 'desc').limit(50).execute();
  const watched = history.map((h) => h.video_id);
  const seeds = watched.slice(0, RECOMMENDATION_SEEDS);
  const picked: (Video & { reason: RecommendationReason })[] = (await coWatched(db, { seeds, exclude: [...watched, ...exclude], viewer: userId, limit })).map((v) => ({
    ...v,
    reason: 'co_watched',
  }));
  if (picked.length >= limit) return picked;
  const skip = new Set([...watched, ...exclude, ...picked.map((v) => v.id)]);
  const trending = (await trendingVideos(db, { limit: limit + skip.size })).filter((v) => !skip.has(v.id));
  return [...picked, ...trending.slice(0, limit - picked.length).map((v) => ({ ...v, reason: 'trending' as const }))];
}

/** `GET /feed`: a signed-in viewer's home (README "Home feed"). */
export function feedRoutes(deps: Pick<VideoRouteDeps, 'config' | 'db' | 'storage'>) {
  const { db } = deps;
  const links = createVideoLinks(deps.config, deps.storage, createPlaybackSigner(deps.config.auth.jwtSecret));
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['videos'],
      summary: 'Your home feed: new uploads from channels you follow, then recommendations',
      description:
        'Live streams of followed channels come from `GET /streams?followed=true&status=live`. `uploads`: the newest public videos of the channels you follow (newest first). `recommended`: what viewers of your latest watched videos also watched (`reason: "co_watched"`), then trending (`"trending"`), never a video you watched or one in `uploads`. See README "Home feed".',
      ...signedIn,
      responses: {
        200: enveloped(
          z.object({ uploads: z.array(videoSchema), recommended: z.array(videoSchema.extend({ reason: z.enum(['co_watched', 'trending']) })) }),
          'Your feed',
        ),
      },
    }),
    async (c) => {
      const me = currentUser(c);
      const uploads = await followedUploads(db, me.userId, FEED_SIZE);
      const recommended = await recommendations(db, me.userId, uploads.map((v) => v.id), FEED_SIZE);
      const shown = await presentVideos(db, links, [...uploads, ...recommended], me);
      return c.json(ok({ uploads: shown.slice(0, uploads.length), recommended: shown.slice(uploads.length).map((v, i) => ({ ...v, reason: recommended[i]!.reason })) }), 200);
    },
  );

  return router;
}
