import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recomputeTrending } from '../../activities/trending.ts';
import { trendingScore, type TrendingEvent, type TrendingRules } from '../../lib/trending.ts';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, insertCategories, newUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertVideo } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';

// GET /trending and the recompute behind it (README "Trending"), on the real Postgres and
// Temporal. Each test lists a category of its own, so other files' videos never show.

const t = useTestApp();
const rules: TrendingRules = { halfLifeHours: 24, windowHours: 72 };

const hoursBefore = (now: Date, h: number) => new Date(now.getTime() - h * 3_600_000);

/** Writes the events as the API would have (views counted, likes, comments), at the given times. */
async function record(videoId: string, events: TrendingEvent[]): Promise<void> {
  const likes = events.filter((e) => e.kind === 'like');
  const comments = events.filter((e) => e.kind === 'comment');
  const users = await insertBulkUsers(t.ctx.db, Math.max(likes.length, comments.length, 1));
  for (const e of events.filter((e) => e.kind === 'view')) {
    await t.ctx.db.insertInto('video_views').values({ video_id: videoId, viewer: `d:${randomUUID()}`, viewed_at: e.at, rolled_up: true }).execute();
  }
  for (const [i, e] of likes.entries()) await t.ctx.db.insertInto('video_likes').values({ video_id: videoId, user_id: users[i]!, created_at: e.at }).execute();
  for (const [i, e] of comments.entries()) {
    await t.ctx.db.insertInto('comments').values({ video_id: videoId, author_id: users[i]!, depth: 0, body: 'nice', created_at: e.at }).execute();
  }
}

const trending = async (query: Record<string, string>) => {
  const res = await call(t.app, 'GET', `/api/v1/trending?${new URLSearchParams(query)}`);
  expect(res.status, res.text).toBe(200);
  return (res.json.data as { id: string }[]).map((v) => v.id);
};
const storedScore = async (videoId: string) => (await t.ctx.db.selectFrom('video_trending').select('score').where('video_id', '=', videoId).executeTakeFirst())?.score;

describe('trending', { timeout: 120_000 }, () => {
  it('ranks by the decayed weight of recent views, likes and comments, exactly as the formula, public videos only', async () => {
    const owner = await newUser(t.app);
    const [category] = await insertCategories(t.ctx.db, 1);
    const now = new Date();
    const video = (fields: Parameters<typeof insertVideo>[2] = {}) => insertVideo(t.ctx.db, owner.id, { categoryId: category, ...fields });
    const [oldBurst, fresh, tooOld, privateOne, hiddenOne, other] = await Promise.all([
      video(),
      video(),
      video(),
      video({ visibility: 'private' }),
      video({ hidden: true }),
      insertVideo(t.ctx.db, owner.id),
    ]);
    const events = {
      oldBurst: Array.from({ length: 10 }, (): TrendingEvent => ({ kind: 'view', at: hoursBefore(now, 48) })),
      fresh: [{ kind: 'like', at: hoursBefore(now, 1) }, { kind: 'comment', at: hoursBefore(now, 2) }, { kind: 'view', at: hoursBefore(now, 3) }] as TrendingEvent[],
      tooOld: Array.from({ length: 20 }, (): TrendingEvent => ({ kind: 'view', at: hoursBefore(now, 100) })),
      loud: Array.from({ length: 30 }, (): TrendingEvent => ({ kind: 'view', at: now })),
    };
    await record(oldBurst!, events.oldBurst);
    await record(fresh!, events.fresh);
    await record(tooOld!, events.tooOld);
    await record(privateOne!, events.loud);
    await record(hiddenOne!, events.loud);
    await record(other!, events.loud);

    await recomputeTrending(t.ctx.db, rules, now);
    expect(await trending({ category: category! })).toEqual([fresh, oldBurst]);
    expect(await storedScore(fresh!)).toBeCloseTo(trendingScore(events.fresh, now, rules), 9);
    expect(await storedScore(oldBurst!)).toBeCloseTo(trendingScore(events.oldBurst, now, rules), 9);
    for (const absent of [tooOld, privateOne, hiddenOne]) expect(await storedScore(absent!)).toBeUndefined();
    // Without a category, other categories' (and no category's) videos are in the list too.
    expect(await trending({ limit: '50' })).toContain(other);

    // Made private after the recompute: gone at once, not at the next run.
    await t.ctx.db.updateTable('videos').set({ visibility: 'private' }).where('id', '=', oldBurst!).execute();
    expect(await trending({ category: category! })).toEqual([fresh]);

    // A recompute once its events have left the window drops the rows; repeating it changes nothing.
    const later = new Date(now.getTime() + 80 * 3_600_000);
    const first = await recomputeTrending(t.ctx.db, rules, later);
    expect(await storedScore(fresh!)).toBeUndefined();
    expect(await trending({ category: category! })).toEqual([]);
    expect(await recomputeTrending(t.ctx.db, rules, later)).toEqual({ scored: first.scored, dropped: 0 });
  });

  it('is recomputed by trendingWorkflow, the workflow the trending Schedule starts', async () => {
    const owner = await newUser(t.app);
    const [category] = await insertCategories(t.ctx.db, 1);
    const videoId = await insertVideo(t.ctx.db, owner.id, { categoryId: category });
    await record(videoId, [{ kind: 'like', at: new Date() }]);
    const result = await withWorkers(
      t.ctx,
      () => t.ctx.temporal.client.workflow.execute('trendingWorkflow', { taskQueue: t.ctx.config.temporal.taskQueue, workflowId: `trending/test-${randomUUID()}`, args: [rules] }),
      { media: false },
    );
    expect(result.scored).toBeGreaterThanOrEqual(1);
    expect(await trending({ category: category! })).toEqual([videoId]);
  });

  it('refuses an invalid category or limit', async () => {
    for (const query of ['category=nope', 'limit=0', 'limit=51']) {
      const res = await call(t.app, 'GET', `/api/v1/trending?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
    }
  });
});
