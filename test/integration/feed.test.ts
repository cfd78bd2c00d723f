import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { recomputeTrending } from '../../activities/trending.ts';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, newUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { insertVideo } from '../support/videos.ts';

// GET /feed and GET /streams?followed=true (README "Home feed"): uploads of followed
// channels, recommendations from co-watch then trending, live streams of followed channels.

const t = useTestApp();

const follow = (followerId: string, followeeIds: string[]) =>
  t.ctx.db.insertInto('follows').values(followeeIds.map((followee_id) => ({ follower_id: followerId, followee_id }))).execute();
const watched = (userId: string, videoIds: string[]) =>
  t.ctx.db.insertInto('watch_history').values(videoIds.map((video_id) => ({ user_id: userId, video_id, position_seconds: 1 }))).execute();

describe('home feed', () => {
  it('lists the followed channels’ newest public uploads, then what viewers like you watched, then trending, never what you watched', async () => {
    const viewer = await newUser(t.app);
    const [followedA, followedB, stranger] = await insertBulkUsers(t.ctx.db, 3);
    await follow(viewer.id, [followedA!, followedB!]);
    const older = await insertVideo(t.ctx.db, followedA!, { title: 'older' });
    const fromB = await insertVideo(t.ctx.db, followedB!, { title: 'from B' });
    const newest = await insertVideo(t.ctx.db, followedA!, { title: 'newest' });
    await insertVideo(t.ctx.db, followedB!, { title: 'private', visibility: 'private' });
    const seen = await insertVideo(t.ctx.db, stranger!, { title: 'seen' });
    const alsoWatched = await insertVideo(t.ctx.db, stranger!, { title: 'also watched' });
    const hot = await insertVideo(t.ctx.db, stranger!, { title: 'hot' });
    await watched(viewer.id, [seen]);
    const [other] = await insertBulkUsers(t.ctx.db, 1);
    await watched(other!, [seen, alsoWatched, newest]);
    // Trending: the hot video and the followed channel's newest (which is in uploads already).
    for (const id of [hot, newest]) {
      await sql`insert into video_views (video_id, viewer, viewed_at, rolled_up) select ${id}, 'd:' || g, now(), true from generate_series(1, 500) g`.execute(t.ctx.db);
    }
    await recomputeTrending(t.ctx.db, { halfLifeHours: 24, windowHours: 72 }, new Date());

    const res = await call(t.app, 'GET', '/api/v1/feed', { headers: viewer.auth });
    expect(res.status, res.text).toBe(200);
    const { uploads, recommended } = res.json.data as { uploads: { id: string }[]; recommended: { id: string; reason: string }[] };
    expect(uploads.map((v) => v.id)).toEqual([newest, fromB, older]);
    expect(recommended[0]).toMatchObject({ id: alsoWatched, reason: 'co_watched' });
    expect(recommended.filter((v) => v.reason === 'co_watched')).toHaveLength(1);
    expect(recommended).toContainEqual(expect.objectContaining({ id: hot, reason: 'trending' }));
    const ids = recommended.map((v) => v.id);
    expect(ids).not.toContain(seen);
    expect(ids).not.toContain(newest);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists live streams of followed channels only, signed in', async () => {
    const viewer = await newUser(t.app);
    const [followed, stranger] = await insertBulkUsers(t.ctx.db, 2);
    await follow(viewer.id, [followed!]);
    const theirs = await insertStream(t.ctx, followed!, 'live');
    await insertStream(t.ctx, stranger!, 'live');
    await insertStream(t.ctx, followed!, 'ended');
    const res = await call(t.app, 'GET', '/api/v1/streams?followed=true&status=live', { headers: viewer.auth });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data.map((s: { id: string }) => s.id)).toEqual([theirs]);
    expect((await call(t.app, 'GET', '/api/v1/streams?followed=true')).status).toBe(401);
    expect((await call(t.app, 'GET', '/api/v1/feed')).status).toBe(401);
  });
});
