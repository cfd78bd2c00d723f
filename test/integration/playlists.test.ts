import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseConfig, processEnv } from '../../lib/config.ts';
import { evenKeys, keyBetween, MAX_KEY_LENGTH } from '../../lib/playlist-order.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { insertVideo } from '../support/videos.ts';

// Playlists (README "Playlists"): visibility, exact play order after moves, concurrent moves
// into one gap, the limits at their boundary, idempotent adds, watch later.

const t = useTestApp();

const api = (method: string, path: string, user?: TestUser, body?: unknown) => call(t.app, method, `/api/v1${path}`, { headers: user?.auth ?? {}, body });

async function newPlaylist(user: TestUser, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await api('POST', '/playlists', user, { title: 'Mix', ...fields });
  expect(res.status, res.text).toBe(201);
  return res.json.data.id;
}

async function add(user: TestUser, playlist: string, videoId: string, where: { before?: string; after?: string } = {}) {
  const res = await api('POST', `/playlists/${playlist}/items`, user, { videoId, ...where });
  expect([200, 201], res.text).toContain(res.status);
  return res;
}

const move = (user: TestUser, playlist: string, videoId: string, where: { before?: string; after?: string }) => api('POST', `/playlists/${playlist}/items/${videoId}/move`, user, where);

/** The whole play order the viewer sees, page by page. */
async function order(playlist: string, viewer?: TestUser, limit = 3): Promise<{ ids: string[]; unavailable: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let unavailable = -1;
  do {
    const res = await api('GET', `/playlists/${playlist}/items?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, viewer);
    expect(res.status, res.text).toBe(200);
    ids.push(...res.json.data.map((i: { videoId: string }) => i.videoId));
    unavailable = res.json.meta.unavailableCount;
    cursor = res.json.meta.nextCursor;
  } while (cursor);
  return { ids, unavailable };
}

async function videos(owner: TestUser, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => insertVideo(t.ctx.db, owner.id, { title: `Video ${i}` })));
}

const positions = async (playlist: string) =>
  (await sql<{ video_id: string; position: string }>`select video_id, position from playlist_items where playlist_id = ${playlist} order by position collate "C"`.execute(t.ctx.db)).rows;

describe('playlists', () => {
  it('shows public and unlisted playlists to anyone, private ones only to the owner, and lets only the owner change them', async () => {
    const [owner, other] = [await newUser(t.app), await newUser(t.app)];
    const [video] = await videos(owner, 1);
    const pub = await newPlaylist(owner, { title: 'Public', visibility: 'public' });
    const unlisted = await newPlaylist(owner, { title: 'Unlisted', visibility: 'unlisted' });
    const priv = await newPlaylist(owner, { title: 'Private' });
    for (const id of [pub, unlisted, priv]) await add(owner, id, video!);

    expect((await api('GET', `/playlists/${priv}`, owner)).json.data).toMatchObject({ visibility: 'private', kind: 'regular', itemCount: 1, hasVideo: null });
    for (const viewer of [other, undefined]) {
      expect((await api('GET', `/playlists/${pub}`, viewer)).status).toBe(200);
      expect((await api('GET', `/playlists/${unlisted}`, viewer)).status).toBe(200);
      expect((await order(unlisted, viewer)).ids).toEqual([video]);
      for (const path of [`/playlists/${priv}`, `/playlists/${priv}/items`]) {
        const res = await api('GET', path, viewer);
        expect(res.status).toBe(404);
        expect(res.json.error.code).toBe('not_found');
      }
      // A user's list shows others only the public ones.
      const list = await api('GET', `/users/${owner.username}/playlists`, viewer);
      expect(list.json.data.map((p: { id: string }) => p.id)).toEqual([pub]);
    }
    // The owner sees all of theirs, newest first, by `me`, id or username; `withVideo` fills in hasVideo.
    for (const who of ['me', owner.id, owner.username]) {
      const mine = await api('GET', `/users/${who}/playlists?withVideo=${video}`, owner);
      expect(mine.json.data.map((p: { id: string; hasVideo: boolean }) => [p.id, p.hasVideo])).toEqual([[priv, true], [unlisted, true], [pub, true]]);
    }
    expect((await api('GET', '/users/me/playlists')).status).toBe(401);
    // Admins included: a private playlist is its owner's alone.
    const admin = await newUser(t.app);
    await setRole(t.ctx.db, admin.id, 'admin');
    expect((await api('GET', `/playlists/${priv}`, admin)).status).toBe(404);
    expect((await api('GET', `/users/nobody_${randomUUID().slice(0, 8)}/playlists`)).status).toBe(404);

    // Writes: anonymous 401; another user 403 on what they can read, 404 on what they cannot.
    const writes = (id: string) => [
      () => api('PATCH', `/playlists/${id}`, other, { title: 'Mine now' }),
      () => api('DELETE', `/playlists/${id}`, other),
      () => api('POST', `/playlists/${id}/items`, other, { videoId: video }),
      () => api('DELETE', `/playlists/${id}/items/${video}`, other),
      () => api('POST', `/playlists/${id}/items/${video}/move`, other, { after: video }),
    ];
    for (const send of writes(pub)) expect((await send()).status).toBe(403);
    for (const send of writes(priv)) expect((await send()).status).toBe(404);
    for (const res of [await api('POST', '/playlists', undefined, { title: 'x' }), await api('PATCH', `/playlists/${pub}`, undefined, { title: 'x' })]) {
      expect(res.status).toBe(401);
    }
    expect((await api('GET', `/playlists/${pub}`)).json.data).toMatchObject({ title: 'Public', itemCount: 1 });

    // The owner edits: making it private hides it at once; deleting removes it.
    const edited = await api('PATCH', `/playlists/${pub}`, owner, { title: 'Renamed', description: 'Best of', visibility: 'private' });
    expect(edited.json.data).toMatchObject({ title: 'Renamed', description: 'Best of', visibility: 'private' });
    expect((await api('GET', `/playlists/${pub}`, other)).status).toBe(404);
    expect((await api('PATCH', `/playlists/${pub}`, owner, {})).status).toBe(400);
    expect((await api('POST', '/playlists', owner, { title: '  ' })).status).toBe(400);
    expect((await api('DELETE', `/playlists/${pub}`, owner)).json.data).toEqual({ deleted: true });
    expect((await api('GET', `/playlists/${pub}`, owner)).status).toBe(404);
  });

  it('plays in the exact order a sequence of adds and moves leaves, across pages', async () => {
    const owner = await newUser(t.app);
    const [a, b, c, d, e, f, g, h] = await videos(owner, 8) as [string, string, string, string, string, string, string, string];
    const list = await newPlaylist(owner);
    for (const v of [a, b, c, d, e]) await add(owner, list, v);
    await add(owner, list, f, { before: a }); // f a b c d e
    await add(owner, list, g, { after: c }); // f a b c g d e
    expect((await order(list, owner)).ids).toEqual([f, a, b, c, g, d, e]);

    const moves: [string, { before?: string; after?: string }][] = [
      [e, { before: f }], // e f a b c g d
      [a, { after: d }], // e f b c g d a
      [c, { before: b }], // e f c b g d a
      [f, { after: a }], // e c b g d a f
      [g, { before: e }], // g e c b d a f
      [d, { after: g }], // g d e c b a f
      [b, { after: d }], // g d b e c a f
    ];
    for (const [video, where] of moves) {
      const res = await move(owner, list, video, where);
      expect(res.status, res.text).toBe(200);
    }
    await add(owner, list, h, { before: b }); // g d h b e c a f
    expect((await order(list, owner)).ids).toEqual([g, d, h, b, e, c, a, f]);
    expect((await order(list, owner, 100)).ids).toEqual([g, d, h, b, e, c, a, f]);

    // Refusals: both anchors, none, itself, an anchor or a video not in the playlist.
    for (const body of [{ before: a, after: b }, {}]) expect((await move(owner, list, c, body)).status).toBe(400);
    const self = await move(owner, list, c, { after: c });
    expect(self.status).toBe(400);
    expect(self.json.error.code).toBe('validation_failed');
    const [outside] = await videos(owner, 1);
    expect((await move(owner, list, c, { after: outside! })).status).toBe(404);
    expect((await move(owner, list, outside!, { after: c })).status).toBe(404);
    expect((await api('POST', `/playlists/${list}/items`, owner, { videoId: outside, before: a, after: b })).status).toBe(400);
    expect((await api('POST', `/playlists/${list}/items`, owner, { videoId: outside, before: outside })).status).toBe(404);
    expect((await api('GET', `/playlists/${list}/items?cursor=nonsense`, owner)).status).toBe(400);
    expect((await order(list, owner)).ids).toEqual([g, d, h, b, e, c, a, f]);
  });

  it('orders two concurrent moves into the same gap one after the other, and racing adds all land', async () => {
    const owner = await newUser(t.app);
    const [a, b, c, d] = await videos(owner, 4) as [string, string, string, string];
    const list = await newPlaylist(owner);
    for (const v of [a, b, c, d]) await add(owner, list, v);
    for (let round = 0; round < 5; round++) {
      // Both pick the gap between a and the item after it: without the playlist lock both would compute one key.
      const [moveC, moveD] = await Promise.all([move(owner, list, c, { after: a }), move(owner, list, d, { after: a })]);
      expect([moveC.status, moveD.status]).toEqual([200, 200]);
      const { ids } = await order(list, owner);
      // The later move sits right after a, the earlier one after it: either way a, {c,d}, b.
      expect(ids[0]).toBe(a);
      expect(new Set(ids.slice(1, 3))).toEqual(new Set([c, d]));
      expect(ids[3]).toBe(b);
      const keys = (await positions(list)).map((p) => p.position);
      expect(new Set(keys).size).toBe(4);
      // Put them back at the end for the next round.
      await move(owner, list, c, { after: b });
      await move(owner, list, d, { after: c });
    }

    const more = await videos(owner, 20);
    const added = await Promise.all(more.map((v) => api('POST', `/playlists/${list}/items`, owner, { videoId: v })));
    expect(added.map((r) => r.status)).toEqual(Array(20).fill(201));
    const { ids } = await order(list, owner, 100);
    expect(ids.slice(0, 4)).toEqual([a, b, c, d]);
    expect(new Set(ids.slice(4))).toEqual(new Set(more));
    expect(new Set((await positions(list)).map((p) => p.position)).size).toBe(24);
  });

  it('adds a video once however often it is sent, removes idempotently, and only adds what the caller may see', async () => {
    const [owner, other] = [await newUser(t.app), await newUser(t.app)];
    const [a, b] = await videos(owner, 2) as [string, string];
    const list = await newPlaylist(owner, { visibility: 'public' });
    expect((await add(owner, list, a)).status).toBe(201);
    await add(owner, list, b);
    // Again, even with a place: it stays where it is.
    for (const where of [{}, { after: b }]) {
      const again = await add(owner, list, a, where);
      expect(again.status).toBe(200);
      expect(again.json.data).toEqual({ added: false });
    }
    expect((await order(list, owner)).ids).toEqual([a, b]);
    expect((await api('GET', `/playlists/${list}`)).json.data.itemCount).toBe(2);
    const racing = await Promise.all(Array.from({ length: 5 }, () => api('POST', `/playlists/${list}/items`, owner, { videoId: b })));
    expect(racing.map((r) => r.status)).toEqual(Array(5).fill(200));

    expect((await api('DELETE', `/playlists/${list}/items/${a}`, owner)).json.data).toEqual({ removed: true });
    expect((await api('DELETE', `/playlists/${list}/items/${a}`, owner)).json.data).toEqual({ removed: false });
    expect((await order(list, owner)).ids).toEqual([b]);

    // Someone else's private, unready, hidden or deleted video, or none at all: 404, nothing added.
    const refused = [
      await insertVideo(t.ctx.db, other.id, { visibility: 'private' }),
      await insertVideo(t.ctx.db, other.id, { status: 'processing' }),
      await insertVideo(t.ctx.db, other.id, { hidden: true }),
      await insertVideo(t.ctx.db, other.id, { deleted: true }),
      randomUUID(),
    ];
    for (const videoId of refused) expect((await api('POST', `/playlists/${list}/items`, owner, { videoId })).status, videoId).toBe(404);
    // Their unlisted one, by its link, may be added.
    expect((await add(owner, list, await insertVideo(t.ctx.db, other.id, { visibility: 'unlisted' }))).status).toBe(201);
    expect((await api('GET', `/playlists/${list}`)).json.data.itemCount).toBe(2);
  });

  it('leaves out videos the viewer may not see and counts them as unavailable', async () => {
    const [owner, creator, viewer] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    const [shown, toPrivate, toHidden, toDeleted, last] = await videos(creator, 5) as [string, string, string, string, string];
    const list = await newPlaylist(owner, { visibility: 'public' });
    for (const v of [shown, toPrivate, toHidden, toDeleted, last]) await add(owner, list, v);
    await t.ctx.db.updateTable('videos').set({ visibility: 'private' }).where('id', '=', toPrivate).execute();
    await t.ctx.db.updateTable('videos').set({ moderation_hidden_at: new Date() }).where('id', '=', toHidden).execute();
    await t.ctx.db.updateTable('videos').set({ deleted_at: new Date() }).where('id', '=', toDeleted).execute();

    for (const who of [owner, viewer, undefined]) {
      // Pages of one item: the left-out ones leave no gaps or repeats, and every page says 3.
      expect(await order(list, who, 1)).toEqual({ ids: [shown, last], unavailable: 3 });
    }
    // The creator still sees their own private and hidden videos.
    expect(await order(list, creator)).toEqual({ ids: [shown, toPrivate, toHidden, last], unavailable: 1 });
    expect((await api('GET', `/playlists/${list}`, viewer)).json.data.itemCount).toBe(5);
  });

  it('holds 5,000 videos per playlist and 200 playlists per user, also when the last places are raced for', async () => {
    const owner = await newUser(t.app);
    const list = await newPlaylist(owner);
    const { rows } = await sql<{ id: string }>`
      insert into videos (owner_id, title, source, source_key, status, visibility, ready_at)
      select ${owner.id}::uuid, 'Bulk ' || n, 'upload', 'uploads/' || gen_random_uuid(), 'ready', 'public', now()
      from generate_series(1, 4999) n returning id`.execute(t.ctx.db);
    const keys = evenKeys(4999);
    await t.ctx.db.insertInto('playlist_items').values(rows.map((r, i) => ({ playlist_id: list, video_id: r.id, position: keys[i]! }))).execute();
    const [x, y, z] = await videos(owner, 3) as [string, string, string];
    const raced = await Promise.all([x, y].map((videoId) => api('POST', `/playlists/${list}/items`, owner, { videoId })));
    expect(raced.map((r) => r.status).sort()).toEqual([201, 422]);
    const full = await api('POST', `/playlists/${list}/items`, owner, { videoId: z });
    expect(full.status).toBe(422);
    expect(full.json.error).toMatchObject({ code: 'limit_reached', details: { limit: 5000 } });
    expect((await api('GET', `/playlists/${list}`, owner)).json.data.itemCount).toBe(5000);
    // Adding one already in is still fine; after a removal there is room for one.
    expect((await api('POST', `/playlists/${list}/items`, owner, { videoId: rows[0]!.id })).status).toBe(200);
    await api('DELETE', `/playlists/${list}/items/${rows[0]!.id}`, owner);
    expect((await api('POST', `/playlists/${list}/items`, owner, { videoId: z })).status).toBe(201);

    // 199 playlists (the one above and 198 more), then two creates race for the 200th.
    await t.ctx.db.insertInto('playlists').values(Array.from({ length: 198 }, (_, i) => ({ owner_id: owner.id, title: `P${i}` }))).execute();
    const created = await Promise.all([1, 2].map(() => api('POST', '/playlists', owner, { title: 'One too many?' })));
    expect(created.map((r) => r.status).sort()).toEqual([201, 422]);
    const over = await api('POST', '/playlists', owner, { title: 'Over' });
    expect(over.json.error).toMatchObject({ code: 'limit_reached', details: { limit: 200 } });
    // Watch later is not one of the 200.
    expect((await api('GET', '/users/me/watch-later', owner)).status).toBe(200);
    const { n } = await t.ctx.db.selectFrom('playlists').select((eb) => eb.fn.countAll<string>().as('n')).where('owner_id', '=', owner.id).executeTakeFirstOrThrow();
    expect(Number(n)).toBe(201);
  });

  it('respaces a playlist whose keys grew too long, keeping its order', async () => {
    const owner = await newUser(t.app);
    const [a, b, c] = await videos(owner, 3) as [string, string, string];
    const list = await newPlaylist(owner);
    for (const v of [a, b, c]) await add(owner, list, v);
    // Keys as many inserts into one gap leave them: the next key between a and b is too long.
    let [lo, hi] = ['a0', 'a1'];
    while (keyBetween(lo, hi).length <= MAX_KEY_LENGTH) hi = keyBetween(lo, hi);
    await t.ctx.db.updateTable('playlist_items').set({ position: lo }).where('video_id', '=', a).execute();
    await t.ctx.db.updateTable('playlist_items').set({ position: hi }).where('video_id', '=', b).execute();
    await t.ctx.db.updateTable('playlist_items').set({ position: 'a2' }).where('video_id', '=', c).execute();

    expect((await move(owner, list, c, { after: a })).status).toBe(200);
    expect((await order(list, owner)).ids).toEqual([a, c, b]);
    const keys = (await positions(list)).map((p) => p.position);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(3);
  });

  it('gives each user one private watch later, created on first use, that cannot be renamed, shared or deleted', async () => {
    const [owner, other] = [await newUser(t.app), await newUser(t.app)];
    expect((await api('GET', '/users/me/playlists', owner)).json.data).toEqual([]);
    const first = await Promise.all([1, 2, 3].map(() => api('GET', '/users/me/watch-later', owner)));
    const id = first[0]!.json.data.id;
    expect(first.map((r) => r.json.data.id)).toEqual([id, id, id]);
    expect(first[0]!.json.data).toMatchObject({ kind: 'watch_later', title: 'Watch later', visibility: 'private', itemCount: 0 });
    expect((await api('GET', '/users/me/watch-later', other)).json.data.id).not.toBe(id);
    expect((await api('GET', '/users/me/watch-later')).status).toBe(401);

    const [v1, v2] = await videos(other, 2) as [string, string];
    await add(owner, id, v1);
    await add(owner, id, v2, { before: v1 });
    expect((await order(id, owner)).ids).toEqual([v2, v1]);
    expect((await api('GET', `/users/me/playlists?withVideo=${v1}`, owner)).json.data).toMatchObject([{ id, kind: 'watch_later', hasVideo: true }]);

    for (const res of [
      await api('PATCH', `/playlists/${id}`, owner, { title: 'Later-ish' }),
      await api('PATCH', `/playlists/${id}`, owner, { visibility: 'public' }),
      await api('DELETE', `/playlists/${id}`, owner),
    ]) {
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
    }
    expect((await api('GET', `/playlists/${id}`, other)).status).toBe(404);
    expect((await api('GET', `/users/${owner.id}/playlists`, other)).json.data).toEqual([]);
    expect((await api('GET', `/playlists/${id}`, owner)).json.data).toMatchObject({ title: 'Watch later', itemCount: 2 });
  });

  it('allows 120 playlist changes a minute per user, then 429 naming the rule', async () => {
    const { playlistWritesPerMinute } = parseConfig({ ...processEnv(), RATE_LIMIT_PLAYLIST_WRITES_PER_MINUTE: undefined }).rateLimits;
    expect(playlistWritesPerMinute).toBe(120);
    const owner = await newUser(t.app);
    const [video] = await videos(owner, 1);
    const { statuses, refused, user } = await inOneWindow(t.ctx.db, 60, async () => {
      const user = await newUser(t.app);
      const list = await newPlaylist(user);
      const statuses = [];
      // Adds and removes share one budget with creates.
      for (let i = 0; i < 119; i++) {
        statuses.push((i % 2 === 0 ? await api('POST', `/playlists/${list}/items`, user, { videoId: video }) : await api('DELETE', `/playlists/${list}/items/${video}`, user)).status);
      }
      return { statuses, refused: await api('POST', '/playlists', user, { title: 'One more' }), user };
    });
    expect(statuses).toEqual(Array.from({ length: 119 }, (_, i) => (i % 2 === 0 ? 201 : 200)));
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'playlists' } });
    // Reads are not limited.
    expect((await api('GET', '/users/me/playlists', user)).status).toBe(200);
  });
});
