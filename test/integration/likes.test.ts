import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig, processEnv } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertVideo } from '../support/videos.ts';
import { inOneWindow } from '../support/rate-windows.ts';

// Likes on videos and live streams: one per user and target, idempotent PUT/DELETE, counts
// exact under concurrency, only on what the caller may see, limited per user.

const t = useTestApp();

async function insertStream(db: Db, ownerId: string) {
  const row = await db
    .insertInto('streams')
    .values({ owner_id: ownerId, title: 'Live and liked', status: 'live', stream_key_hash: randomUUID(), stream_key_prefix: 'live_test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const like = (path: string, user?: TestUser) => call(t.app, 'PUT', `${path}/like`, { headers: user?.auth ?? {} });
const unlike = (path: string, user?: TestUser) => call(t.app, 'DELETE', `${path}/like`, { headers: user?.auth ?? {} });
const get = (path: string, user?: TestUser) => call(t.app, 'GET', path, { headers: user?.auth ?? {} });

async function rowsAndCounter(target: 'video' | 'stream', id: string) {
  const rows =
    target === 'video'
      ? await t.ctx.db.selectFrom('video_likes').select((eb) => eb.fn.countAll<string>().as('n')).where('video_id', '=', id).executeTakeFirstOrThrow()
      : await t.ctx.db.selectFrom('stream_likes').select((eb) => eb.fn.countAll<string>().as('n')).where('stream_id', '=', id).executeTakeFirstOrThrow();
  const counter = await t.ctx.db.selectFrom(`${target}s`).select('like_count').where('id', '=', id).executeTakeFirstOrThrow();
  return { rows: Number(rows.n), counter: counter.like_count };
}

describe('likes', () => {
  it('likes a video and a stream once however often it is sent, and shows likeCount and likedByMe', async () => {
    const [owner, fan, other] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    for (const [target, id] of [['video', await insertVideo(t.ctx.db, owner.id)], ['stream', await insertStream(t.ctx.db, owner.id)]] as const) {
      const path = `/api/v1/${target}s/${id}`;
      for (let i = 0; i < 2; i++) {
        const res = await like(path, fan);
        expect(res.status, res.text).toBe(200);
        expect(res.json.data).toEqual({ liked: true, likeCount: 1 });
      }
      expect((await get(path, fan)).json.data).toMatchObject({ likeCount: 1, likedByMe: true });
      expect((await get(path, other)).json.data).toMatchObject({ likeCount: 1, likedByMe: false });
      expect((await get(path)).json.data).toMatchObject({ likeCount: 1, likedByMe: null });
      // Lists carry them too.
      const list = await get(`/api/v1/${target}s?ownerId=${owner.id}`, fan);
      expect(list.json.data.find((item: { id: string }) => item.id === id)).toMatchObject({ likeCount: 1, likedByMe: true });

      // Unliking twice is one unlike; unliking what you never liked is fine too.
      for (let i = 0; i < 2; i++) expect((await unlike(path, fan)).json.data).toEqual({ liked: false, likeCount: 0 });
      expect((await unlike(path, other)).json.data).toEqual({ liked: false, likeCount: 0 });
      expect((await get(path, fan)).json.data).toMatchObject({ likeCount: 0, likedByMe: false });
      expect(await rowsAndCounter(target, id)).toEqual({ rows: 0, counter: 0 });
    }
  });

  it('keeps the count exact under 50 users liking at once and one user liking and unliking at once', async () => {
    const owner = await newUser(t.app);
    const fans = await Promise.all(Array.from({ length: 50 }, () => newUser(t.app)));
    const toggler = await newUser(t.app);
    for (const [target, id] of [['video', await insertVideo(t.ctx.db, owner.id)], ['stream', await insertStream(t.ctx.db, owner.id)]] as const) {
      const path = `/api/v1/${target}s/${id}`;
      const answers = await Promise.all(fans.map((fan) => like(path, fan)));
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
      expect(Math.max(...answers.map((a) => a.json.data.likeCount))).toBe(50);
      // Every answer saw its own like counted: the counts handed out are 1..50, each once.
      expect(answers.map((a) => a.json.data.likeCount).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await rowsAndCounter(target, id)).toEqual({ rows: 50, counter: 50 });

      // One user's likes and unlikes racing each other (and fans liking again, which changes nothing).
      const racing = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? like(path, toggler) : unlike(path, toggler))),
        ...fans.slice(0, 10).map((fan) => like(path, fan)),
      ]);
      expect(racing.map((a) => a.status)).toEqual(Array(30).fill(200));
      const after = await rowsAndCounter(target, id);
      expect(after.counter).toBe(after.rows);
      const likedByToggler = (await get(path, toggler)).json.data.likedByMe as boolean;
      expect(after.rows).toBe(likedByToggler ? 51 : 50);
      await unlike(path, toggler);
      expect(await rowsAndCounter(target, id)).toEqual({ rows: 50, counter: 50 });
    }
  });

  it('refuses likes of what the caller may not see, and anonymous callers', async () => {
    const [owner, viewer] = [await newUser(t.app), await newUser(t.app)];
    const privateVideo = await insertVideo(t.ctx.db, owner.id, { visibility: 'private' });
    const refused = [
      privateVideo,
      await insertVideo(t.ctx.db, owner.id, { status: 'processing' }),
      await insertVideo(t.ctx.db, owner.id, { hidden: true }),
      await insertVideo(t.ctx.db, owner.id, { deleted: true }),
      randomUUID(),
    ];
    for (const id of refused) {
      for (const send of [like, unlike]) {
        const res = await send(`/api/v1/videos/${id}`, viewer);
        expect(res.status, id).toBe(404);
        expect(res.json.error.code).toBe('not_found');
      }
    }
    expect((await like(`/api/v1/streams/${randomUUID()}`, viewer)).status).toBe(404);
    const counters = await t.ctx.db.selectFrom('videos').select('like_count').where('id', 'in', refused.slice(0, 4)).execute();
    expect(counters.map((c) => c.like_count)).toEqual([0, 0, 0, 0]);

    // An unlisted video is readable by its link, so it can be liked; the owner may like their own private one.
    const unlisted = await insertVideo(t.ctx.db, owner.id, { visibility: 'unlisted' });
    expect((await like(`/api/v1/videos/${unlisted}`, viewer)).json.data).toEqual({ liked: true, likeCount: 1 });
    expect((await like(`/api/v1/videos/${privateVideo}`, owner)).json.data).toEqual({ liked: true, likeCount: 1 });

    // Anonymous: 401 whatever the target, and nothing written.
    const stream = await insertStream(t.ctx.db, owner.id);
    for (const path of [`/api/v1/videos/${unlisted}`, `/api/v1/streams/${stream}`]) {
      for (const send of [like, unlike]) {
        const res = await send(path);
        expect(res.status).toBe(401);
        expect(res.json.error.code).toBe('unauthorized');
      }
    }
    expect(await rowsAndCounter('stream', stream)).toEqual({ rows: 0, counter: 0 });
  });

  it('allows 60 likes and unlikes a minute per user, then 429 naming the rule', async () => {
    // The default a deployment gets (README: 60), not whatever this run's environment sets.
    const { likesPerMinute } = parseConfig({ ...processEnv(), RATE_LIMIT_LIKES_PER_MINUTE: undefined }).rateLimits;
    expect(likesPerMinute).toBe(60);
    const owner = await newUser(t.app);
    const video = `/api/v1/videos/${await insertVideo(t.ctx.db, owner.id)}`;
    const stream = `/api/v1/streams/${await insertStream(t.ctx.db, owner.id)}`;
    const { statuses, refused } = await inOneWindow(t.ctx.db, 60, async () => {
      const user = await newUser(t.app);
      const statuses = [];
      // Videos and streams, likes and unlikes: one budget.
      for (let i = 0; i < 60; i++) statuses.push((await [like, unlike][i % 2]!(i < 30 ? video : stream, user)).status);
      return { statuses, refused: await like(video, user) };
    });
    expect(statuses).toEqual(Array(60).fill(200));
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'likes' } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The refused like wrote nothing, and another user is unaffected.
    expect((await get(video)).json.data.likeCount).toBe(0);
    expect((await like(video, await newUser(t.app))).json.data).toEqual({ liked: true, likeCount: 1 });
  });

  it('documents the like routes in the OpenAPI document', async () => {
    const doc = (await call(t.app, 'GET', '/api/v1/openapi.json')).json;
    for (const path of ['/api/v1/videos/{id}/like', '/api/v1/streams/{id}/like']) {
      for (const method of ['put', 'delete']) {
        const operation = doc.paths[path]?.[method];
        expect(operation, `${method} ${path}`).toBeDefined();
        expect(operation.security).toEqual([{ bearerAuth: [] }]);
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '401', '404', '429']));
      }
    }
    for (const schema of ['Video', 'Stream']) expect(doc.components.schemas[schema].properties).toHaveProperty('likedByMe');
  });
});
