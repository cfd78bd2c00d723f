import { createRoute, z } from '@hono/zod-openapi';
import { addressHolder } from '../../lib/client-address.ts';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { presignGet, type Storage } from '../../lib/s3.ts';
import { webLinks } from '../../lib/web-urls.ts';
import { localRateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, encodeCursor, errorResponses, pagedEnvelope, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { loadHits, MAX_SEARCH_RESULTS, searchPage, searchTerms, type SearchRow } from './service.ts';

const channelRefSchema = z.object({ id: z.uuid(), username: z.string(), displayName: z.string() });
const common = {
  id: z.uuid(),
  match: z.enum(['exact', 'typo']).openapi({ description: '`exact`: the words (the last one also as a prefix) were found; `typo`: only a similar title or name was' }),
  score: z.number().openapi({ description: 'Relevance within its `match` tier (see README "Search")' }),
  webUrl: z.string(),
};
const searchHitSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('video'),
      ...common,
      title: z.string(),
      description: z.string(),
      tags: z.array(z.string()),
      categoryId: z.uuid().nullable(),
      durationSeconds: z.number().nullable(),
      viewCount: z.number().int(),
      likeCount: z.number().int(),
      thumbnailUrl: z.string().nullable(),
      createdAt: z.string(),
      channel: channelRefSchema,
    }),
    z.object({
      type: z.literal('stream'),
      ...common,
      title: z.string(),
      categoryId: z.uuid().nullable(),
      status: z.enum(['live', 'reconnecting']),
      currentViewers: z.number().int(),
      startedAt: z.string().nullable(),
      channel: channelRefSchema,
    }),
    z.object({
      type: z.literal('channel'),
      ...common,
      username: z.string(),
      displayName: z.string(),
      avatarUrl: z.string().nullable(),
      followerCount: z.number().int(),
    }),
  ])
  .openapi('SearchHit');
type SearchHit = z.infer<typeof searchHitSchema>;

const cursorSchema = z.object({
  tier: z.enum(['exact', 'typo']),
  offset: z.number().int().min(0).max(MAX_SEARCH_RESULTS),
  served: z.number().int().min(0).max(MAX_SEARCH_RESULTS),
});

const querySchema = pageQuerySchema.extend({
  q: z.string().trim().min(1).max(100).openapi({ description: 'What to look for: 1–100 characters once trimmed' }),
  type: z.enum(['all', 'video', 'stream', 'channel']).default('all'),
  category: z.uuid().optional().openapi({ description: 'Only videos and streams of this category (channels have none)' }),
  sort: z.enum(['relevance', 'newest', 'views']).default('relevance'),
});

/** `GET /search`: public videos, live streams and channels, for anyone; limited per client address. */
export function searchRoutes(deps: { config: Config; db: Db; storage: Storage }) {
  const { config, db, storage } = deps;
  const router = createRouter();
  const web = webLinks(config.publicUrls.web);
  // In memory, like the general ceiling: search is a read typed a keystroke at a time, and a
  // counter row per request would cost more than the search.
  const perClient = localRateLimit({ name: 'search', limit: config.rateLimits.searchPerMinute, windowSeconds: 60, subjects: (c) => [addressHolder(c.get('clientIp'))] });

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['search'],
      summary: 'Search public videos, live streams and channels',
      description:
        'Full-text over titles (weight A), tags (B) and descriptions (C), the last word also as a prefix, then typo-tolerant matches on titles and channel names ranked after every exact one. Sorts: `relevance`, `newest`, `views` (videos: views, streams: viewers now, channels: followers), within each tier. At most 300 results per query; `cursor` pages through them. Counts against `RATE_LIMIT_SEARCH_PER_MINUTE` per client address.',
      middleware: [perClient],
      request: { query: querySchema },
      responses: {
        200: { description: 'One page of hits, best first', content: { 'application/json': { schema: pagedEnvelope(searchHitSchema) } } },
        ...errorResponses({ 400: 'Invalid query, filter or cursor', 429: 'Too many searches' }),
      },
    }),
    async (c) => {
      const { q, type, category, sort, limit, cursor } = c.req.valid('query');
      const from = decodeCursor(cursor, cursorSchema);
      const terms = searchTerms(q);
      const { rows, next } = terms ? await searchPage(db, terms, { type, categoryId: category, sort }, limit, from) : { rows: [], next: undefined };
      const loaded = await loadHits(db, rows);
      const ttl = config.videos.playbackUrlTtlSeconds;

      const toHit = async (row: SearchRow): Promise<SearchHit | undefined> => {
        const common = { id: row.id, match: row.tier, score: row.score };
        if (row.kind === 'video') {
          const v = loaded.videos.get(row.id);
          if (!v) return undefined;
          return {
            type: 'video',
            ...common,
            webUrl: web.video(v.id),
            title: v.title,
            description: v.description,
            tags: v.tags,
            categoryId: v.category_id,
            durationSeconds: v.duration_seconds,
            viewCount: Number(v.view_count),
            likeCount: v.like_count,
            thumbnailUrl: v.poster_key ? await presignGet(storage, v.poster_key, ttl, 'public') : null,
            createdAt: v.created_at.toISOString(),
            channel: { id: v.owner_id, username: v.username, displayName: v.display_name },
          };
        }
        if (row.kind === 'stream') {
          const s = loaded.streams.get(row.id);
          if (!s || (s.status !== 'live' && s.status !== 'reconnecting')) return undefined;
          return {
            type: 'stream',
            ...common,
            webUrl: web.stream(s.id),
            title: s.title,
            categoryId: s.category_id,
            status: s.status,
            currentViewers: s.current_viewers,
            startedAt: s.started_at?.toISOString() ?? null,
            channel: { id: s.owner_id, username: s.username, displayName: s.display_name },
          };
        }
        const u = loaded.channels.get(row.id);
        if (!u) return undefined;
        return { type: 'channel', ...common, webUrl: web.channel(u.username), username: u.username, displayName: u.display_name, avatarUrl: u.avatar_url, followerCount: u.follower_count };
      };

      // A hit that changed between ranking and loading (a stream that just ended) is left out.
      const data = (await Promise.all(rows.map(toHit))).filter((hit) => hit !== undefined);
      return c.json({ success: true as const, data, meta: { limit, nextCursor: next ? encodeCursor(next) : null } }, 200);
    },
  );

  return router;
}
