import { beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { sleep } from '../../lib/async.ts';
import { createDb } from '../../lib/db.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, PASSWORD } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestContext();

// Shared limits count in fixed windows aligned to the clock (lib/rate-limits.ts): requests that
// straddled a window's end would see their count reset, and Retry-After says how much of the
// window is left. So each test starts clear of the end of the windows it uses, and computes
// Retry-After from where in the window it ran, whatever the time of day.
const msToWindowEnd = (windowSeconds: number) => windowSeconds * 1000 - (Date.now() % (windowSeconds * 1000));

/** Waits for the next window when the current one ends within `marginMs`. */
async function clearOfWindowEnd(windowSeconds: number, marginMs: number) {
  const left = msToWindowEnd(windowSeconds);
  if (left < marginMs) await sleep(left + 500);
}

/** Calls `request` and returns its Retry-After with the bounds it must lie in for a window of `windowSeconds`. */
async function retryAfterOf<R extends { headers: Headers }>(windowSeconds: number, request: () => Promise<R>) {
  const atMost = Math.ceil(msToWindowEnd(windowSeconds) / 1000);
  const res = await request();
  const atLeast = Math.max(1, Math.ceil(msToWindowEnd(windowSeconds) / 1000));
  return { retryAfter: Number(res.headers.get('retry-after')), atLeast, atMost, res };
}

beforeEach(() => clearOfWindowEnd(60, 5000));

/** An app as a separate API process would build it: its own config and its own pool. */
function apiProcess(limits: Partial<Config['rateLimits']>) {
  const config: Config = { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, trustProxy: true, ...limits } };
  const db = createDb({ url: config.postgres.url, poolMax: 2, applicationName: 'rate-limit-test' });
  return { app: createApp({ ...t.ctx.apiDeps(), config, db }), close: () => db.destroy() };
}

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const login = (app: App, ip: string, name: string) =>
  call(app, 'POST', '/api/v1/auth/login', { headers: from(ip), body: { login: name, password: 'wrong password' } });

describe('rate limits', () => {
  it('allows 5 logins a minute per address, then 429 with Retry-After', async () => {
    const api = apiProcess({ loginPerMinute: 5 });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await login(api.app, '203.0.113.1', `name_${i}`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const limited = await login(api.app, '203.0.113.1', 'name_x');
      expect(limited.json.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await login(api.app, '203.0.113.2', 'name_y')).status).toBe(401); // another address is unaffected
    } finally {
      await api.close();
    }
  });

  it('limits one account across many addresses and both its names, and holds across API processes', async () => {
    const owner = await newUser(createApp(t.ctx.apiDeps()), { username: 'target_user', email: 'target@example.test' });
    const [one, two] = [apiProcess({ loginPerMinute: 5 }), apiProcess({ loginPerMinute: 5 })];
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const api = i % 2 ? two : one;
        const name = i % 2 ? 'Target_User' : 'TARGET@example.test';
        statuses.push((await login(api.app, `198.51.100.${i}`, name)).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      // The limit is on attempts, so even the right password waits out the window.
      const right = await call(one.app, 'POST', '/api/v1/auth/login', { headers: from('198.51.100.99'), body: { login: owner.username, password: PASSWORD } });
      expect(right.status).toBe(429);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('allows 3 registrations an hour per address', async () => {
    await clearOfWindowEnd(3600, 15_000);
    const api = apiProcess({ registerPerHour: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const body = { email: `r${i}-${t.ctx.id}@example.test`, username: `r${i}_${t.ctx.id}`, password: PASSWORD };
        statuses.push((await call(api.app, 'POST', '/api/v1/auth/register', { headers: from('192.0.2.7'), body })).status);
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
      // The rest of this hour, not of a minute.
      const { retryAfter, atLeast, atMost } = await retryAfterOf(3600, () => call(api.app, 'POST', '/api/v1/auth/register', { headers: from('192.0.2.7'), body: {} }));
      expect(retryAfter).toBeGreaterThanOrEqual(atLeast);
      expect(retryAfter).toBeLessThanOrEqual(atMost);
    } finally {
      await api.close();
    }
  });

  it('allows 30 uploads an hour per user, then 429 naming the rule, and counts each user apart', async () => {
    await clearOfWindowEnd(3600, 15_000);
    // The default a deployment gets (README: 30), not whatever this run's environment sets.
    const { uploadsPerHour } = parseConfig({ ...processEnv(), RATE_LIMIT_UPLOADS_PER_HOUR: undefined }).videos;
    const app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, videos: { ...t.ctx.config.videos, uploadsPerHour } } });
    const [uploader, other] = [await newUser(app), await newUser(app)];
    const create = (user: typeof uploader, i: number) => call(app, 'POST', '/api/v1/videos', { headers: user.auth, body: { title: `Upload ${i}` } });
    const statuses = [];
    for (let i = 1; i <= 31; i++) statuses.push((await create(uploader, i)).status);
    expect(statuses).toEqual([...Array<number>(30).fill(201), 429]);
    const { retryAfter, atLeast, atMost, res } = await retryAfterOf(3600, () => create(uploader, 32));
    expect(res.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'video-upload' } });
    expect(retryAfter).toBeGreaterThanOrEqual(atLeast);
    expect(retryAfter).toBeLessThanOrEqual(atMost);
    // Nothing was created for the refused ones.
    expect(await t.ctx.db.selectFrom('videos').select('id').where('owner_id', '=', uploader.id).execute()).toHaveLength(30);
    expect((await create(other, 1)).status).toBe(201);
  });

  it('applies a general per-address ceiling to every API route, without writing to the database', async () => {
    const api = apiProcess({ generalPerMinute: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(api.app, 'GET', '/api/v1/categories', { headers: from('192.0.2.200') })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await call(api.app, 'GET', '/api/v1/users/me', { headers: from('192.0.2.200') });
      expect(limited.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'ip' } });
      // One token comes back every 60/3 = 20 s.
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(20);
      expect((await call(api.app, 'GET', '/api/v1/categories', { headers: from('192.0.2.201') })).status).toBe(200);
      const shared = await t.ctx.db.selectFrom('rate_limits').select('key').where('key', 'like', 'ip:%').execute();
      expect(shared).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('counts the general ceiling in each API process on its own (README: N processes, up to N× the ceiling)', async () => {
    const [one, two] = [apiProcess({ generalPerMinute: 2 }), apiProcess({ generalPerMinute: 2 })];
    try {
      const statuses = [];
      for (const api of [one, one, one, two, two, two]) statuses.push((await call(api.app, 'GET', '/api/v1/categories', { headers: from('192.0.2.210') })).status);
      expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('starts counting afresh in a new window', async () => {
    const key = `window-test-${t.ctx.id}`;
    const lastMinute = new Date(Date.now() - 60_000);
    for (let i = 0; i < 3; i++) await hitRateLimit(t.ctx.db, key, 2, 60, lastMinute);
    expect((await hitRateLimit(t.ctx.db, key, 2, 60, lastMinute)).allowed).toBe(false);
    const now = await hitRateLimit(t.ctx.db, key, 2, 60);
    expect(now).toMatchObject({ allowed: true, hits: 1 });
  });

  it('counts the address the proxy saw, not what the client wrote before it', async () => {
    const api = apiProcess({ loginPerMinute: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await login(api.app, `6.6.6.${i}, 192.0.2.99`, `forged_${i}`)).status);
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await api.close();
    }
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const config: Config = { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, trustProxy: false, loginPerMinute: 2 } };
    const app = createApp({ ...t.ctx.apiDeps(), config });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(app, `10.9.9.${i}`, `spoof_${i}`)).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});
