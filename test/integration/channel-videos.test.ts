import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteObject, presignGet } from '../../lib/s3.ts';
import { videoPaths } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestApp } from '../support/context.ts';
import { insertCategories, newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { h264, mediaDir, probeStreams, testPattern } from '../support/media.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { insertVideo, settledVideo, submitVideo } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

const run = promisify(execFile);

// A channel's videos (GET /users/{id}/videos) by the reading rules of GET /videos, newest or
// most viewed, uploads or past broadcasts; PATCH /videos/{id} with its rules and the poster
// workflow; the live stream on the profile.

const t = useTestApp();
const media = mediaDir('channel-videos');
afterAll(media.remove);

const get = (path: string, user?: TestUser) => call(t.app, 'GET', path, { headers: user?.auth ?? {} });
const patch = (id: string, body: unknown, user?: TestUser) => call(t.app, 'PATCH', `/api/v1/videos/${id}`, { body, headers: user?.auth ?? {} });

/** Every item of a channel list, page by page, with the ids of each page. */
async function allPages(path: string, user?: TestUser, limit = 2, from: string | null = null) {
  const pages: string[][] = [];
  let cursor = from;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, user);
    expect(res.status, res.text).toBe(200);
    pages.push(res.json.data.map((v: { id: string }) => v.id));
    cursor = res.json.meta.nextCursor;
  } while (cursor);
  return pages;
}

const ids = async (path: string, user?: TestUser) => (await allPages(path, user, 100)).flat();

describe('GET /users/{id}/videos', () => {
  it('lists public ready videos to everyone and every video to the owner and admins; uploads and past broadcasts apart', async () => {
    const [owner, other, admin] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    await setRole(t.ctx.db, admin.id, 'admin');
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute));
    const upload = await insertVideo(t.ctx.db, owner.id, { createdAt: at(1) });
    const recording = await insertVideo(t.ctx.db, owner.id, { source: 'recording', createdAt: at(2) });
    const unseen = [
      await insertVideo(t.ctx.db, owner.id, { visibility: 'private', createdAt: at(3) }),
      await insertVideo(t.ctx.db, owner.id, { visibility: 'unlisted', createdAt: at(4) }),
      await insertVideo(t.ctx.db, owner.id, { status: 'processing', createdAt: at(5) }),
      await insertVideo(t.ctx.db, owner.id, { hidden: true, createdAt: at(6) }),
    ];
    const deleted = await insertVideo(t.ctx.db, owner.id, { deleted: true, createdAt: at(7) });
    await insertVideo(t.ctx.db, other.id, { createdAt: at(8) });

    const path = `/api/v1/users/${owner.id}/videos`;
    expect(await ids(path)).toEqual([recording, upload]);
    expect(await ids(path, other)).toEqual([recording, upload]);
    // By username too, any case.
    expect(await ids(`/api/v1/users/${owner.username.toUpperCase()}/videos`)).toEqual([recording, upload]);
    const everything = [...unseen].reverse().concat(recording, upload);
    expect(await ids(path, owner)).toEqual(everything);
    expect(await ids(path, admin)).toEqual(everything);
    expect(everything).not.toContain(deleted);

    expect(await ids(`${path}?source=recording`)).toEqual([recording]);
    expect(await ids(`${path}?source=upload`)).toEqual([upload]);
    expect(await ids(`${path}?source=upload`, owner)).toEqual([...unseen].reverse().concat(upload));

    const listed = (await get(path, other)).json.data[0];
    expect(listed).toMatchObject({ id: recording, ownerId: owner.id, source: 'recording', tags: [], category: null, viewCount: 0, likedByMe: false });

    expect((await get(`/api/v1/users/${randomUUID()}/videos`)).status).toBe(404);
    expect((await get(`/api/v1/users/nobody_${Date.now()}/videos`)).status).toBe(404);
    expect((await get(`${path}?sort=oldest`)).status).toBe(400);
    expect((await get(`${path}?source=live`)).status).toBe(400);
  });

  it('sorts newest or most viewed exactly, ties by id, and its keyset pages neither repeat nor skip under inserts', async () => {
    const owner = await newUser(t.app);
    const views = [5, 40, 5, 0, 12, 40, 7];
    const created = [];
    for (const [i, viewCount] of views.entries()) {
      created.push({ id: await insertVideo(t.ctx.db, owner.id, { viewCount, createdAt: new Date(Date.UTC(2026, 10, 2, 12, i)) }), viewCount, i });
    }
    const path = `/api/v1/users/${owner.id}/videos`;
    const newest = [...created].sort((a, b) => b.i - a.i).map((v) => v.id);
    const mostViewed = [...created].sort((a, b) => b.viewCount - a.viewCount || (a.id < b.id ? 1 : -1)).map((v) => v.id);

    for (const [sort, expected] of [['newest', newest], ['most_viewed', mostViewed]] as const) {
      // The first page, then a newer video with the most views, then the rest: the rest is what it was.
      const first = await get(`${path}?sort=${sort}&limit=3`);
      expect(first.json.data.map((v: { id: string }) => v.id)).toEqual(expected.slice(0, 3));
      const late = await insertVideo(t.ctx.db, owner.id, { viewCount: 1000, createdAt: new Date() });
      const rest = await allPages(`${path}?sort=${sort}`, undefined, 3, first.json.meta.nextCursor);
      expect(rest.flat()).toEqual(expected.slice(3));
      expect(rest.map((p) => p.length)).toEqual([3, 1]);
      await t.ctx.db.deleteFrom('videos').where('id', '=', late).execute();
    }
    expect((await get(`${path}?sort=most_viewed`)).json.data.map((v: { viewCount: number }) => v.viewCount)).toEqual([40, 40, 12, 7, 5, 5, 0]);

    // A cursor belongs to its sort.
    const newestCursor = (await get(`${path}?sort=newest&limit=1`)).json.meta.nextCursor;
    const viewsCursor = (await get(`${path}?sort=most_viewed&limit=1`)).json.meta.nextCursor;
    expect((await get(`${path}?sort=most_viewed&cursor=${newestCursor}`)).status).toBe(400);
    expect((await get(`${path}?sort=newest&cursor=${viewsCursor}`)).status).toBe(400);
  });
});

describe('GET /users/{id}: the live stream', () => {
  it('shows the public stream on air now, and nothing for an unlisted, ended or moderation-ended one', async () => {
    const owner = await newUser(t.app);
    const profile = async () => (await get(`/api/v1/users/${owner.username}`)).json.data;
    expect((await profile()).liveStream).toBeNull();

    await insertStream(t.ctx, owner.id, 'ended');
    const unlisted = await insertStream(t.ctx, owner.id, 'live');
    await t.ctx.db.updateTable('streams').set({ visibility: 'unlisted' }).where('id', '=', unlisted).execute();
    const stopped = await insertStream(t.ctx, owner.id, 'live');
    await t.ctx.db.updateTable('streams').set({ moderation_ended_at: new Date() }).where('id', '=', stopped).execute();
    expect((await profile()).liveStream).toBeNull();

    const live = await insertStream(t.ctx, owner.id, 'reconnecting');
    await t.ctx.db.updateTable('streams').set({ started_at: new Date(), current_viewers: 3 }).where('id', '=', live).execute();
    expect((await profile()).liveStream).toEqual({
      id: live,
      title: 'Gateway test',
      status: 'reconnecting',
      startedAt: expect.any(String),
      currentViewers: 3,
      webUrl: `${t.ctx.config.publicUrls.web}/streams/${live}`,
    });
  });
});

describe('PATCH /videos/{id}', () => {
  it('changes the fields the owner or an admin sends, and refuses others: 401, 403, 404, 400', async () => {
    const [owner, other, admin] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    await setRole(t.ctx.db, admin.id, 'admin');
    const video = await insertVideo(t.ctx.db, owner.id);
    const privateVideo = await insertVideo(t.ctx.db, owner.id, { visibility: 'private' });
    const [category] = await insertCategories(t.ctx.db, 1);

    const changed = await patch(video, { title: '  New title ', description: 'Now described', visibility: 'unlisted', categoryId: category }, owner);
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json.data).toMatchObject({ id: video, title: 'New title', description: 'Now described', visibility: 'unlisted', category: { id: category, name: expect.any(String), slug: expect.any(String) } });
    // GET answers the same, category included; other fields stay.
    const read = (await get(`/api/v1/videos/${video}`, owner)).json.data;
    expect(read).toMatchObject({ title: 'New title', visibility: 'unlisted', category: { id: category }, tags: [], thumbnailAtSeconds: null });
    // Unlisted: gone from the channel for everyone but its owner.
    expect(await ids(`/api/v1/users/${owner.id}/videos`, other)).toEqual([]);
    expect((await patch(video, { categoryId: null, visibility: 'public' }, admin)).json.data).toMatchObject({ category: null, visibility: 'public' });
    expect(await ids(`/api/v1/users/${owner.id}/videos`, other)).toEqual([video]);

    expect((await patch(video, { title: 'x' })).status).toBe(401);
    const notYours = await patch(video, { title: 'x' }, other);
    expect(notYours.status).toBe(403);
    expect(notYours.json.error.code).toBe('forbidden');
    // A video the caller may not see does not reveal that it exists.
    expect((await patch(privateVideo, { title: 'x' }, other)).status).toBe(404);
    expect((await patch(randomUUID(), { title: 'x' }, owner)).status).toBe(404);
    const deleted = await insertVideo(t.ctx.db, owner.id, { deleted: true });
    expect((await patch(deleted, { title: 'x' }, owner)).status).toBe(404);
    for (const body of [{ title: '' }, { title: 'x'.repeat(101) }, { visibility: 'secret' }, { views: 10 }, { thumbnailAtSeconds: -1 }, { categoryId: 'games' }]) {
      const res = await patch(video, body, owner);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
    }
    expect((await get(`/api/v1/videos/${video}`)).json.data.title).toBe('New title');
  });

  it('refuses an unknown or inactive category and a poster time outside the video with 422', async () => {
    const owner = await newUser(t.app);
    const video = await insertVideo(t.ctx.db, owner.id);
    const processing = await insertVideo(t.ctx.db, owner.id, { status: 'processing' });
    const [inactive] = await insertCategories(t.ctx.db, 1);
    await t.ctx.db.updateTable('categories').set({ is_active: false }).where('id', '=', inactive!).execute();
    for (const [id, body, field] of [
      [video, { categoryId: randomUUID() }, 'categoryId'],
      [video, { categoryId: inactive }, 'categoryId'],
      // The inserted video is 5 s long: 5 is its end, not a frame in it.
      [video, { thumbnailAtSeconds: 5 }, 'thumbnailAtSeconds'],
      [processing, { thumbnailAtSeconds: 1 }, 'thumbnailAtSeconds'],
    ] as const) {
      const res = await patch(id, body, owner);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'unprocessable', details: [{ field }] });
    }
    expect((await get(`/api/v1/videos/${video}`, owner)).json.data).toMatchObject({ category: null, thumbnailAtSeconds: null });
  });

  it('normalizes tags: trimmed, lower-cased, deduplicated; at most 20, each 1–30 characters', async () => {
    const owner = await newUser(t.app);
    const video = await insertVideo(t.ctx.db, owner.id);
    const tags = async (raw: string[]) => patch(video, { tags: raw }, owner);

    expect((await tags(['  Music ', 'music', 'LIVE   Set', 'MUSIC', 'a'])).json.data.tags).toEqual(['music', 'live set', 'a']);
    expect((await get(`/api/v1/videos/${video}`)).json.data.tags).toEqual(['music', 'live set', 'a']);
    expect((await tags([`  ${'X'.repeat(30)}  `])).json.data.tags).toEqual(['x'.repeat(30)]);
    const twenty = Array.from({ length: 20 }, (_, i) => `tag${i}`);
    // 20 distinct tags, sent with duplicates: accepted.
    expect((await tags([...twenty, 'TAG0', ' tag19 '])).json.data.tags).toEqual(twenty);

    for (const [raw, field] of [
      [['fine', 'y'.repeat(31)], 'tags.1'],
      [['   '], 'tags.0'],
      [[''], 'tags.0'],
      [[...twenty, 'tag20'], 'tags'],
    ] as const) {
      const res = await tags([...raw]);
      expect(res.status, raw.join(',')).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'unprocessable', details: [{ field }] });
    }
    expect((await get(`/api/v1/videos/${video}`)).json.data.tags).toEqual(twenty);
    expect((await tags([])).json.data.tags).toEqual([]);
  });

  it('allows RATE_LIMIT_VIDEO_EDITS_PER_HOUR (60) edits per user an hour; the 61st is 429', async () => {
    const { statuses, refused } = await inOneWindow(t.ctx.db, 3600, async () => {
      const owner = await newUser(t.app);
      const video = await insertVideo(t.ctx.db, owner.id);
      const statuses = [];
      for (let i = 0; i < 60; i++) statuses.push((await patch(video, { title: `Edit ${i}` }, owner)).status);
      return { statuses, refused: await patch(video, { title: 'One too many' }, owner) };
    });
    expect(statuses).toEqual(Array(60).fill(200));
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'video-edit' } });
  });

  it('takes the poster again at the chosen time in video/<id>/poster, from one HLS segment: a new object, the last choice wins', { timeout: 240_000 }, async () => {
    const owner = await newUser(t.app);
    // A picture whose colour turns with time, so a frame says when it was taken: 10 s, three 4 s segments.
    const source = await media.generate('turning.mp4', ['-f', 'lavfi', '-i', 'color=c=red:s=640x360:r=25:d=10,hue=H=2*PI*t/10', ...h264]);
    await withWorkers(t.ctx, async () => {
      const id = await submitVideo(t.app, owner, source, { title: 'Poster' });
      const { video } = await settledVideo(t.app, owner, id);
      expect(video.status).toBe('ready');
      const firstKey = (await t.ctx.db.selectFrom('videos').select('poster_key').where('id', '=', id).executeTakeFirstOrThrow()).poster_key;
      expect(firstKey).toBe(videoPaths(id).poster);
      const before = await fetchBytes(await presignGet(t.ctx.storage, firstKey!, 60, 'internal'));
      // The poster is taken from the segment, not the source: without the source it still comes.
      await deleteObject(t.ctx.storage, (await t.ctx.db.selectFrom('videos').select('source_key').where('id', '=', id).executeTakeFirstOrThrow()).source_key);

      const res = await patch(id, { thumbnailAtSeconds: 9.5 }, owner);
      expect(res.status, res.text).toBe(200);
      expect(res.json.data.thumbnailAtSeconds).toBe(9.5);
      const result = await t.ctx.temporal.client.workflow.getHandle(workflowIds.videoPoster(id)).result();
      expect(result).toEqual({ posterKey: videoPaths(id).posterAt(9.5), published: true });
      const posterKey = (await t.ctx.db.selectFrom('videos').select('poster_key').where('id', '=', id).executeTakeFirstOrThrow()).poster_key;
      expect(posterKey).toBe(videoPaths(id).posterAt(9.5));
      const after = await fetchBytes(await presignGet(t.ctx.storage, posterKey!, 60, 'internal'));
      expect(after.equals(before)).toBe(false);
      const file = media.path('poster.jpg');
      writeFileSync(file, after);
      expect(await probeStreams(file)).toEqual([expect.objectContaining({ codec_type: 'video', width: 640, height: 360 })]);
      // The frame of 9.5 s (1.5 s into the third segment), not of the segment's start at 8 s.
      const colour = await averageColour(file);
      expect(colourDistance(colour, await averageColour(source, 9.5))).toBeLessThan(20);
      expect(colourDistance(colour, await averageColour(source, 8))).toBeGreaterThan(40);
      // The API's thumbnailUrl points at the new object.
      expect((await get(`/api/v1/videos/${id}`)).json.data.thumbnailUrl).toContain(`poster-9500ms.jpg`);

      // Two choices in a row: whichever run ends last, the second choice is the poster.
      expect((await patch(id, { thumbnailAtSeconds: 1 }, owner)).status).toBe(200);
      expect((await patch(id, { thumbnailAtSeconds: 2 }, owner)).status).toBe(200);
      await waitUntil(
        async () => (await t.ctx.db.selectFrom('videos').select('poster_key').where('id', '=', id).executeTakeFirstOrThrow()).poster_key === videoPaths(id).posterAt(2) || undefined,
        'the poster taken at 2 s',
        120_000,
      );
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.videoPoster(id)).result();
      expect((await t.ctx.db.selectFrom('videos').select(['poster_key', 'poster_at_seconds']).where('id', '=', id).executeTakeFirstOrThrow())).toEqual({
        poster_key: videoPaths(id).posterAt(2),
        poster_at_seconds: 2,
      });
    });
  });
});

/** A frame's average colour (RGB), from an image or from a video at `atSeconds`. */
async function averageColour(file: string, atSeconds?: number): Promise<number[]> {
  const seek = atSeconds === undefined ? [] : ['-ss', String(atSeconds)];
  const { stdout } = await run('ffmpeg', ['-v', 'error', ...seek, '-i', file, '-frames:v', '1', '-vf', 'scale=1:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer' });
  return [...(stdout as Buffer).subarray(0, 3)];
}

const colourDistance = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
