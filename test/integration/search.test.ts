import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { parseConfig, processEnv } from '../../lib/config.ts';
import type { StreamStatus } from '../../lib/schema.ts';
import { useTestApp } from '../support/context.ts';
import { insertCategories, newUser, setStatus } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertVideo } from '../support/videos.ts';

// GET /search: ranking tiers and weights, typos, prefixes, accents, visibility, filters,
// sorts, pages, validation and the per-address limit (README "Search"). Each test searches
// words of its own, so the tests of this file do not see each other's rows.

const t = useTestApp();

interface Hit {
  type: 'video' | 'stream' | 'channel';
  id: string;
  match: 'exact' | 'typo';
  score: number;
}

const search = async (query: Record<string, string>) => {
  const res = await call(t.app, 'GET', `/api/v1/search?${new URLSearchParams(query)}`);
  expect(res.status, res.text).toBe(200);
  return res.json as { data: Hit[]; meta: { limit: number; nextCursor: string | null } };
};
const ids = async (query: Record<string, string>) => (await search(query)).data.map((h) => h.id);
const exactIds = async (query: Record<string, string>) => (await search(query)).data.filter((h) => h.match === 'exact').map((h) => h.id);

async function insertStream(ownerId: string, title: string, fields: { status?: StreamStatus; visibility?: 'public' | 'unlisted'; categoryId?: string } = {}) {
  const row = await t.ctx.db
    .insertInto('streams')
    .values({
      owner_id: ownerId,
      title,
      status: fields.status ?? 'live',
      visibility: fields.visibility ?? 'public',
      category_id: fields.categoryId ?? null,
      started_at: new Date(),
      stream_key_hash: randomUUID(),
      stream_key_prefix: 'live_test',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describe('search', () => {
  it('ranks a title match above a tag match above a description match, all exact', async () => {
    const owner = await newUser(t.app);
    const inDescription = await insertVideo(t.ctx.db, owner.id, { title: 'Fish tank tour', description: 'All about the zebrafish in my tank' });
    const inTitle = await insertVideo(t.ctx.db, owner.id, { title: 'Zebrafish care guide' });
    const inTags = await insertVideo(t.ctx.db, owner.id, { title: 'Aquarium basics', tags: ['zebrafish', 'aquarium'] });
    await insertVideo(t.ctx.db, owner.id, { title: 'Goldfish care guide' });

    const { data } = await search({ q: 'zebrafish', type: 'video' });
    expect(data.map((h) => h.id)).toEqual([inTitle, inTags, inDescription]);
    expect(data.map((h) => [h.type, h.match])).toEqual(Array(3).fill(['video', 'exact']));
    expect(data[0]!.score).toBeGreaterThan(data[1]!.score);
    expect(data[1]!.score).toBeGreaterThan(data[2]!.score);
    // Several words: all of them must be found (in any field).
    expect(await exactIds({ q: 'zebrafish guide', type: 'video' })).toEqual([inTitle]);
  });

  // "Minecraft" is in two tests: each keeps its videos in a category of its own and searches only that.
  it('finds a misspelled title as a typo match, ranked below every exact match', async () => {
    const owner = await newUser(t.app);
    const [category] = await insertCategories(t.ctx.db, 1);
    const minecraft = await insertVideo(t.ctx.db, owner.id, { title: 'Minecraft survival episode 12', categoryId: category! });
    const spelledSo = await insertVideo(t.ctx.db, owner.id, { title: 'Blocks and more', description: 'Sorry for writing minecarft all the time', categoryId: category! });

    const { data } = await search({ q: 'minecarft', type: 'video', category: category! });
    expect(data.map((h) => [h.id, h.match])).toEqual([
      [spelledSo, 'exact'],
      [minecraft, 'typo'],
    ]);
    // A typo that shares too little with any title finds nothing.
    expect(await ids({ q: 'mnkrft', type: 'video', category: category! })).toEqual([]);
  });

  it('matches the last word as a prefix from 3 characters on, and folds accents', async () => {
    const owner = await newUser(t.app);
    const [category] = await insertCategories(t.ctx.db, 1);
    const minecraft = await insertVideo(t.ctx.db, owner.id, { title: 'Quarrying in Minecraft', categoryId: category! });
    const cafe = await insertVideo(t.ctx.db, owner.id, { title: 'Café racer build', categoryId: category! });
    const here = (q: string) => ({ q, type: 'video', category: category! });

    for (const q of ['minec', 'Minecraf', 'quarrying minec', 'quarr']) expect(await ids(here(q)), q).toEqual([minecraft]);
    expect((await search(here('minec'))).data[0]!.match).toBe('exact');
    // Two characters are not a prefix yet (they would match half the catalogue), nor long enough for typos.
    expect(await ids(here('qu'))).toEqual([]);
    // Only the last word is a prefix.
    expect(await exactIds(here('quarr minecraft'))).toEqual([]);
    expect(await ids(here('cafe racer'))).toEqual([cafe]);
    expect(await ids(here('CAFÉ'))).toEqual([cafe]);
  });

  it('never shows private, unlisted, unready, hidden or deleted videos, streams off air or unlisted, banned or deleted channels', async () => {
    const owner = await newUser(t.app, { username: `xylo_${randomBytes(4).toString('hex')}` });
    const title = 'Xylophone lessons';
    const shown = await insertVideo(t.ctx.db, owner.id, { title });
    for (const fields of [{ visibility: 'private' }, { visibility: 'unlisted' }, { status: 'processing' }, { hidden: true }, { deleted: true }] as const) {
      await insertVideo(t.ctx.db, owner.id, { title, ...fields });
    }
    const live = await insertStream(owner.id, title);
    const reconnecting = await insertStream(owner.id, title, { status: 'reconnecting' });
    for (const status of ['idle', 'scheduled', 'ended', 'cancelled'] as const) await insertStream(owner.id, title, { status });
    await insertStream(owner.id, title, { visibility: 'unlisted' });
    const suspended = await newUser(t.app, { username: `xylo_${randomBytes(4).toString('hex')}` });
    await setStatus(t.ctx.db, suspended.id, 'suspended', new Date(Date.now() + 3600_000));
    const banned = await newUser(t.app, { username: `xylo_${randomBytes(4).toString('hex')}` });
    await setStatus(t.ctx.db, banned.id, 'banned');
    const deleted = await newUser(t.app, { username: `xylo_${randomBytes(4).toString('hex')}` });
    await t.ctx.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', deleted.id).execute();

    expect(await ids({ q: 'xylophone', type: 'video' })).toEqual([shown]);
    expect((await ids({ q: 'xylophone', type: 'stream' })).sort()).toEqual([live, reconnecting].sort());
    expect((await ids({ q: 'xylo', type: 'channel' })).sort()).toEqual([owner.id, suspended.id].sort());
    // A typo search applies the same rules.
    expect(await ids({ q: 'xylofone lessons', type: 'video' })).toEqual([shown]);
  });

  it('filters by type and category; channels have no category', async () => {
    const [mine, other] = await insertCategories(t.ctx.db, 2);
    const owner = await newUser(t.app, { username: `origami_${randomBytes(4).toString('hex')}` });
    const video = await insertVideo(t.ctx.db, owner.id, { title: 'Origami crane', categoryId: mine! });
    const otherVideo = await insertVideo(t.ctx.db, owner.id, { title: 'Origami frog', categoryId: other! });
    const uncategorized = await insertVideo(t.ctx.db, owner.id, { title: 'Origami boat' });
    const stream = await insertStream(owner.id, 'Origami live', { categoryId: mine! });

    const all = (await search({ q: 'origami' })).data;
    expect(all.map((h) => `${h.type}:${h.id}`).sort()).toEqual(
      [`video:${video}`, `video:${otherVideo}`, `video:${uncategorized}`, `stream:${stream}`, `channel:${owner.id}`].sort(),
    );
    expect((await ids({ q: 'origami', category: mine! })).sort()).toEqual([video, stream].sort());
    expect(await ids({ q: 'origami', category: mine!, type: 'video' })).toEqual([video]);
    expect(await ids({ q: 'origami', category: mine!, type: 'channel' })).toEqual([]);
    expect(await ids({ q: 'origami', type: 'channel' })).toEqual([owner.id]);
    expect(await ids({ q: 'origami', type: 'stream' })).toEqual([stream]);
    const channel = (await search({ q: 'origami', type: 'channel' })).data[0];
    expect(channel).toMatchObject({ type: 'channel', username: owner.username, webUrl: expect.stringMatching(new RegExp(`/@${owner.username}$`)) });
  });

  it('sorts by newest or by views, and pages through results with a cursor', async () => {
    const owner = await newUser(t.app);
    const day = 86_400_000;
    const old = await insertVideo(t.ctx.db, owner.id, { title: 'Kayak trip', viewCount: 900, createdAt: new Date(Date.now() - 3 * day) });
    const middle = await insertVideo(t.ctx.db, owner.id, { title: 'Kayak roll', viewCount: 5, createdAt: new Date(Date.now() - 2 * day) });
    const recent = await insertVideo(t.ctx.db, owner.id, { title: 'Kayak repair', viewCount: 50, createdAt: new Date(Date.now() - day) });

    expect(await ids({ q: 'kayak', sort: 'newest' })).toEqual([recent, middle, old]);
    expect(await ids({ q: 'kayak', sort: 'views' })).toEqual([old, recent, middle]);

    const first = await search({ q: 'kayak', sort: 'newest', limit: '2' });
    expect(first.data.map((h) => h.id)).toEqual([recent, middle]);
    expect(first.meta.nextCursor).not.toBeNull();
    const second = await search({ q: 'kayak', sort: 'newest', limit: '2', cursor: first.meta.nextCursor! });
    expect(second.data.map((h) => h.id)).toEqual([old]);
    expect(second.meta.nextCursor).toBeNull();
    // Exact matches then typo matches, across pages: "kayac" is a prefix of nothing but close to every title.
    const typoPages = [await search({ q: 'kayac trip', limit: '1' })];
    while (typoPages.at(-1)!.meta.nextCursor) typoPages.push(await search({ q: 'kayac trip', limit: '1', cursor: typoPages.at(-1)!.meta.nextCursor! }));
    expect(typoPages.flatMap((p) => p.data.map((h) => [h.id, h.match]))[0]).toEqual([old, 'typo']);
  });

  it('refuses an empty, blank or over-long query, unknown filters and foreign cursors with 400', async () => {
    for (const q of ['', '   ', 'x'.repeat(101)]) {
      const res = await call(t.app, 'GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'q' })] });
    }
    expect((await call(t.app, 'GET', '/api/v1/search')).status).toBe(400);
    // 100 characters once trimmed are fine; punctuation alone matches nothing.
    expect((await search({ q: ` ${'x'.repeat(100)} ` })).data).toEqual([]);
    expect((await search({ q: '!!!' })).data).toEqual([]);
    for (const bad of ['type=movies', 'sort=oldest', 'category=nope', 'limit=101', 'cursor=abc']) {
      const res = await call(t.app, 'GET', `/api/v1/search?q=x&${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it('allows 120 searches a minute per address by default, then 429 naming the rule; another address is unaffected', async () => {
    const { searchPerMinute } = parseConfig({ ...processEnv(), RATE_LIMIT_SEARCH_PER_MINUTE: undefined }).rateLimits;
    expect(searchPerMinute).toBe(120);
    const config = { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, trustProxy: true, searchPerMinute: 5 } };
    const app = createApp({ ...t.ctx.apiDeps(), config });
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(app, 'GET', '/api/v1/search?q=anything', from('198.18.7.1'))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await call(app, 'GET', '/api/v1/search?q=anything', from('198.18.7.1'));
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'search' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(app, 'GET', '/api/v1/search?q=anything', from('198.18.7.2'))).status).toBe(200);
  });
});
