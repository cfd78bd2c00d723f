import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context.ts';
import { newUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestApp();

const counts = async (id: string) => {
  const res = await call(t.app, 'GET', `/api/v1/users/${id}`);
  return { followers: res.json.data.followerCount, following: res.json.data.followingCount };
};

describe('users', () => {
  it('shows a public profile by id or username, never email or hashes', async () => {
    const user = await newUser(t.app);
    for (const key of [user.id, user.username.toUpperCase()]) {
      const res = await call(t.app, 'GET', `/api/v1/users/${key}`);
      expect(res.status).toBe(200);
      expect(res.json.data).toMatchObject({ id: user.id, username: user.username, followerCount: 0 });
      expect(Object.keys(res.json.data)).not.toContain('email');
      expect(res.text).not.toContain(user.email);
      expect(res.text).not.toContain('argon2');
    }
    expect((await call(t.app, 'GET', '/api/v1/users/nobody_at_all')).status).toBe(404);
  });

  it('updates only the caller, only known fields', async () => {
    const user = await newUser(t.app);
    const res = await call(t.app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { displayName: 'New Name', bio: 'hi' } });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ displayName: 'New Name', bio: 'hi', email: user.email });
    const unknown = await call(t.app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { role: 'admin' } });
    expect(unknown.status).toBe(400);
    expect((await call(t.app, 'GET', `/api/v1/users/${user.id}`)).json.data.role).toBe('viewer');
    expect((await call(t.app, 'PATCH', '/api/v1/users/me', { body: { bio: 'x' } })).status).toBe(401);
    const script = await call(t.app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { avatarUrl: 'javascript:alert(1)' } });
    expect(script.status).toBe(400);
    expect(script.json.error.details[0].field).toBe('avatarUrl');
    const long = await call(t.app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { bio: 'x'.repeat(501) } });
    expect(long.status).toBe(400);
    expect(long.json.error.details[0].field).toBe('bio');
  });

  it('stores and returns SQL metacharacters verbatim', async () => {
    const user = await newUser(t.app);
    const nasty = `Robert'); DROP TABLE users;-- \\ % _ " $1 \u0000x`.replace('\u0000', '');
    const res = await call(t.app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { displayName: nasty.slice(0, 50), bio: nasty } });
    expect(res.status).toBe(200);
    const shown = await call(t.app, 'GET', `/api/v1/users/${user.id}`);
    expect(shown.json.data.bio).toBe(nasty);
    expect(shown.json.data.displayName).toBe(nasty.slice(0, 50));
    expect((await call(t.app, 'GET', `/api/v1/users/${encodeURIComponent("x' or '1'='1")}`)).status).toBe(404);
  });
});

describe('follows', () => {
  it('follows idempotently, never double-counting, and unfollows likewise', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    for (let i = 0; i < 2; i++) {
      const res = await call(t.app, 'POST', `/api/v1/users/${b.id}/follow`, { headers: a.auth });
      expect(res.status).toBe(200);
      expect(res.json.data).toEqual({ following: true, notify: true });
    }
    expect(await counts(b.id)).toEqual({ followers: 1, following: 0 });
    expect(await counts(a.id)).toEqual({ followers: 0, following: 1 });

    const quiet = await call(t.app, 'POST', `/api/v1/users/${b.username}/follow`, { headers: a.auth, body: { notify: false } });
    expect(quiet.json.data).toEqual({ following: true, notify: false });
    expect(await counts(b.id)).toEqual({ followers: 1, following: 0 });

    for (let i = 0; i < 2; i++) {
      expect((await call(t.app, 'DELETE', `/api/v1/users/${b.id}/follow`, { headers: a.auth })).json.data).toEqual({ following: false });
    }
    expect(await counts(b.id)).toEqual({ followers: 0, following: 0 });
    expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
  });

  it('refuses self-follows by id or username with 400, writing nothing; unknown users 404, anonymous callers 401', async () => {
    const a = await newUser(t.app);
    for (const key of [a.id, a.username.toUpperCase()]) {
      const self = await call(t.app, 'POST', `/api/v1/users/${key}/follow`, { headers: a.auth });
      expect(self.status).toBe(400);
      expect(self.json.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'id', message: expect.any(String) }] });
    }
    expect(await t.ctx.db.selectFrom('follows').selectAll().where('follower_id', '=', a.id).execute()).toEqual([]);
    expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
    const unknown = await call(t.app, 'POST', '/api/v1/users/nobody_zz/follow', { headers: a.auth });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('not_found');
    const anonymous = await call(t.app, 'POST', `/api/v1/users/${a.id}/follow`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('unauthorized');
  });

  it('keeps one follow per pair: ten concurrent follows of the same user make one row and count once', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    const results = await Promise.all(Array.from({ length: 10 }, () => call(t.app, 'POST', `/api/v1/users/${b.id}/follow`, { headers: a.auth })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const rows = await t.ctx.db.selectFrom('follows').select('followee_id').where('follower_id', '=', a.id).execute();
    expect(rows).toEqual([{ followee_id: b.id }]);
    expect(await counts(b.id)).toEqual({ followers: 1, following: 0 });
    expect(await counts(a.id)).toEqual({ followers: 0, following: 1 });
  });

  it('has the database itself refuse a self-follow and a second row for a pair', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    const insert = (follower: string, followee: string) => t.ctx.db.insertInto('follows').values({ follower_id: follower, followee_id: followee }).execute();
    await expect(insert(a.id, a.id)).rejects.toMatchObject({ code: '23514', constraint: 'follows_no_self_follow' });
    await insert(a.id, b.id);
    await expect(insert(a.id, b.id)).rejects.toMatchObject({ code: '23505', constraint: 'follows_pkey' });
  });

  it('keeps counters exact under concurrent follow/unfollow of the same pair and crossing pairs', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    const ops = Array.from({ length: 40 }, (_, i) => {
      const [from, to] = i % 4 < 2 ? [a, b] : [b, a];
      return call(t.app, i % 2 ? 'DELETE' : 'POST', `/api/v1/users/${to.id}/follow`, { headers: from.auth });
    });
    const results = await Promise.all(ops);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const rows = await t.ctx.db.selectFrom('follows').selectAll().where('follower_id', 'in', [a.id, b.id]).execute();
    const aFollowsB = rows.some((r) => r.follower_id === a.id) ? 1 : 0;
    const bFollowsA = rows.some((r) => r.follower_id === b.id) ? 1 : 0;
    expect(await counts(a.id)).toEqual({ followers: bFollowsA, following: aFollowsB });
    expect(await counts(b.id)).toEqual({ followers: aFollowsB, following: bFollowsA });
  });

  it('pages followers newest first by keyset, without gaps or repeats', async () => {
    const star = await newUser(t.app);
    const fans = [];
    for (let i = 0; i < 7; i++) {
      const fan = await newUser(t.app);
      await call(t.app, 'POST', `/api/v1/users/${star.id}/follow`, { headers: fan.auth });
      fans.push(fan.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = `limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call(t.app, 'GET', `/api/v1/users/${star.id}/followers?${query}`);
      expect(res.status).toBe(200);
      expect(res.json.meta.limit).toBe(3);
      seen.push(...res.json.data.map((u: { id: string }) => u.id));
      cursor = res.json.meta.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...fans].reverse());

    const following = await call(t.app, 'GET', `/api/v1/users/${fans[0]}/following`);
    expect(following.json.data.map((u: { id: string }) => u.id)).toEqual([star.id]);
  });

  it('rejects a forged cursor and an out-of-range limit with 400', async () => {
    const user = await newUser(t.app);
    const bad = await call(t.app, 'GET', `/api/v1/users/${user.id}/followers?cursor=not-a-cursor`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].field).toBe('cursor');
    const forgedTime = Buffer.from(JSON.stringify({ at: 'yesterday', id: crypto.randomUUID() })).toString('base64url');
    const tampered = await call(t.app, 'GET', `/api/v1/users/${user.id}/followers?cursor=${forgedTime}`);
    expect(tampered.status).toBe(400);
    const big = await call(t.app, 'GET', `/api/v1/users/${user.id}/followers?limit=101`);
    expect(big.status).toBe(400);
    expect(big.json.error.details[0].field).toBe('limit');
  });
});
