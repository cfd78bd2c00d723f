import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { enveloped, errorResponses, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findStream } from '../streams/service.ts';
import { findWatchableVideo } from '../videos/service.ts';
import { setLike, type LikeTarget } from './service.ts';

export const likeStateSchema = z.object({ liked: z.boolean(), likeCount: z.number().int().min(0) }).openapi('LikeState');

/** One per-user budget for every like and unlike: videos, streams and comments. */
export const likesPerUser = (deps: { config: Config; db: Db }) =>
  rateLimit(deps.db, { name: 'likes', limit: deps.config.rateLimits.likesPerMinute, windowSeconds: 60, subjects: (c) => [currentUser(c).userId] });

/**
 * `PUT|DELETE /videos/{id}/like` and `/streams/{id}/like`: one like per user and target,
 * both idempotent. Only what the caller may see can be liked (a video's reading rules; any
 * stream, as `GET /streams/{id}` shows any). Likes and unlikes share one per-user limit.
 */
export function likeRoutes(deps: { config: Config; db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const perUser = likesPerUser(deps);
  const visible: Record<Exclude<LikeTarget, 'comment'>, (id: string, auth: Parameters<typeof findWatchableVideo>[2]) => Promise<unknown>> = {
    video: (id, auth) => findWatchableVideo(db, id, auth),
    stream: (id) => findStream(db, id),
  };

  for (const target of ['video', 'stream'] as const) {
    for (const method of ['put', 'delete'] as const) {
      const liked = method === 'put';
      router.openapi(
        createRoute({
          method,
          path: `/${target}s/{id}/like`,
          tags: [`${target}s`],
          summary: liked ? `Like this ${target} (idempotent: one like per user)` : `Remove your like of this ${target} (idempotent)`,
          description: `Answers the ${target}'s exact like count afterwards. Likes and unlikes count against \`RATE_LIMIT_LIKES_PER_MINUTE\` per user.`,
          ...signedIn,
          middleware: [requireAuth, perUser],
          request: { params: uuidParam },
          responses: {
            200: enveloped(likeStateSchema, liked ? 'Liked' : 'Not liked'),
            ...errorResponses({ 401: 'Not signed in', 403: 'Account suspended or banned (or `subscribers_only` for a subscriber-only video)', 404: `No such ${target}, or not yours to see`, 429: 'Too many likes' }),
          },
        }),
        async (c) => {
          const { id } = c.req.valid('param');
          await visible[target](id, c.get('auth'));
          return c.json(ok(await setLike(db, target, id, currentUser(c).userId, liked)), 200);
        },
      );
    }
  }

  return router;
}
