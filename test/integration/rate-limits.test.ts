import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { createDb } from '../../lib/db.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, PASSWORD } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { spawnApiProcess, type ServiceProcess } from '../support/processes.ts';
import { inOneWindow } from '../support/rate-windows.ts';

const t = useTestContext();

// Fixed windows (a minute for login, an hour for registration) are aligned to the database
// clock: a burst that straddled a boundary would see its count reset, so each burst runs
// inOneWindow, from an address (or name) of its own.
let addresses = 0;
const freshAddress = () => `198.18.${Math.floor(++addresses / 250)}.${addresses % 250}`;

/** An app as a separate API process would build it: its own config and its own pool. */
function apiProcess(limits: Partial<Config['rateLimits']>) {
  const config: Config = { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, trustProxy: true, ...limits } };
  const db = createDb({ url: config.postgres.url, poolMax: 2, applicationName: 'rate-limit-test' });
  return { app: createApp({ ...t.ctx.apiDeps(), config, db }), close: () => db.destroy() };
}

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const registration = () => {
  const name = `r_${randomBytes(5).toString('hex')}`;
  return { email: `${name}@example.test`, username: name, password: PASSWORD };
};
const login = (app: App, ip: string, name: string) =>
  call(app, 'POST', '/api/v1/auth/login', { headers: from(ip), body: { login: name, password: 'wrong password' } });

describe('rate limits', () => {
  it('allows 5 logins a minute per address, then 429 with Retry-After', async () => {
    const api = apiProcess({ loginPerMinute: 5 });
    try {
      const answers = await inOneWindow(t.ctx.db, 60, async () => {
        const ip = freshAddress();
        const seen = [];
        for (let i = 0; i < 6; i++) seen.push(await login(api.app, ip, `name_${randomBytes(4).toString('hex')}`));
        return seen;
      });
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429]);
      const limited = answers[5]!;
      expect(limited.json.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await login(api.app, freshAddress(), 'name_y')).status).toBe(401); // another address is unaffected
    } finally {
      await api.close();
    }
  });

  it('allows 3 registrations an hour per address', async () => {
    const api = apiProcess({ registerPerHour: 3 });
    try {
      let ip = '';
      const statuses = await inOneWindow(t.ctx.db, 3600, async () => {
        ip = freshAddress();
        const seen = [];
        for (let i = 0; i < 4; i++) seen.push((await call(api.app, 'POST', '/api/v1/auth/register', { headers: from(ip), body: registration() })).status);
        return seen;
      });
      expect(statuses).toEqual([201, 201, 201, 429]);
      const retryAfter = Number((await call(api.app, 'POST', '/api/v1/auth/register', { headers: from(ip), body: {} })).headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3600);
    } finally {
      await api.close();
    }
  });

  it('allows 30 uploads an hour per user, then 429 naming the rule, and counts each user apart', async () => {
    // The default a deployment gets (README: 30), not whatever this run's environment sets.
    const { uploadsPerHour } = parseConfig({ ...processEnv(), RATE_LIMIT_UPLOADS_PER_HOUR: undefined }).videos;
    const app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, videos: { ...t.ctx.config.videos, uploadsPerHour } } });
    const create = (user: { auth: Record<string, string> }, i: number) => call(app, 'POST', '/api/v1/videos', { headers: user.auth, body: { title: `Upload ${i}` } });
    const { uploader, statuses, refused } = await inOneWindow(t.ctx.db, 3600, async () => {
      const uploader = await newUser(app);
      const statuses = [];
      for (let i = 1; i <= 31; i++) statuses.push((await create(uploader, i)).status);
      return { uploader, statuses, refused: await create(uploader, 32) };
    });
    expect(statuses).toEqual([...Array<number>(30).fill(201), 429]);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'video-upload' } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Nothing was created for the refused ones, and another user still has all 30.
    expect(await t.ctx.db.selectFrom('videos').select('id').where('owner_id', '=', uploader.id).execute()).toHaveLength(30);
    expect((await create(await newUser(app), 1)).status).toBe(201);
  });

  it('applies a general per-address ceiling to every API route, without writing to the database', async () => {
    const api = apiProcess({ generalPerMinute: 3 });
    const generalIp = freshAddress();
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(api.app, 'GET', '/api/v1/categories', { headers: from(generalIp) })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await call(api.app, 'GET', '/api/v1/users/me', { headers: from(generalIp) });
      expect(limited.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'ip' } });
      // One token comes back every 60/3 = 20 s.
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(20);
      expect((await call(api.app, 'GET', '/api/v1/categories', { headers: from(freshAddress()) })).status).toBe(200);
      const shared = await t.ctx.db.selectFrom('rate_limits').select('key').where('key', 'like', 'ip:%').execute();
      expect(shared).toEqual([]);
    } finally {
      await api.close();
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
      const statuses = await inOneWindow(t.ctx.db, 60, async () => {
        const ip = freshAddress();
        const seen = [];
        for (let i = 0; i < 3; i++) seen.push((await login(api.app, `6.6.6.${i}, ${ip}`, `forged_${randomBytes(4).toString('hex')}`)).status);
        return seen;
      });
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await api.close();
    }
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const config: Config = { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, trustProxy: false, loginPerMinute: 2 } };
    const app = createApp({ ...t.ctx.apiDeps(), config });
    const statuses = await inOneWindow(t.ctx.db, 60, async () => {
      // Every attempt counts against the one address the app sees without a socket, whatever the
      // header claims; a try that straddled a minute starts that count over.
      await t.ctx.db.deleteFrom('rate_limits').where('key', 'like', 'login:ip:%').execute();
      const seen = [];
      for (let i = 0; i < 3; i++) seen.push((await login(app, `10.9.9.${i}`, `spoof_${randomBytes(4).toString('hex')}`)).status);
      return seen;
    });
    expect(statuses).toEqual([401, 401, 429]);
  });
});

// The same limits with two real `api/server.ts` processes sharing one Postgres, as production
// runs them behind a balancer: counters in one process's memory could not pass these.
describe('rate limits across API processes', () => {
  let apis: ServiceProcess[] = [];
  let ceilingApis: ServiceProcess[] = [];
  beforeAll(async () => {
    // No RATE_LIMIT_* variables: the defaults the README states (600 a minute, login 5 a minute, registration 3 an hour).
    const readmeDefaults = { TRUST_PROXY: 'true', RATE_LIMIT_GENERAL_PER_MINUTE: undefined, RATE_LIMIT_LOGIN_PER_MINUTE: undefined, RATE_LIMIT_REGISTER_PER_HOUR: undefined };
    const smallCeiling = { ...readmeDefaults, RATE_LIMIT_GENERAL_PER_MINUTE: '2' };
    [apis, ceilingApis] = await Promise.all([
      Promise.all([spawnApiProcess(t.ctx, readmeDefaults), spawnApiProcess(t.ctx, readmeDefaults)]),
      Promise.all([spawnApiProcess(t.ctx, smallCeiling), spawnApiProcess(t.ctx, smallCeiling)]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([...apis, ...ceilingApis].map((api) => api.stop()));
  });

  const post = (api: ServiceProcess, path: string, ip: string, body: unknown) =>
    fetch(`http://${api.host}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...from(ip) }, body: JSON.stringify(body) });

  it('login: 5 a minute per address whichever process answers; the 6th gets 429 rate_limited with Retry-After', async () => {
    const answers = await inOneWindow(t.ctx.db, 60, async () => {
      const ip = freshAddress();
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push(await post(apis[i % 2]!, '/auth/login', ip, { login: `nobody_${randomBytes(4).toString('hex')}`, password: 'wrong password' }));
      return seen;
    });
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = answers[5]!;
    expect(((await limited.json()) as any).error).toMatchObject({ code: 'rate_limited', details: { rule: 'login' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('login: 5 a minute per account, by either of its names, from any addresses through any process', async () => {
    const answers = await inOneWindow(t.ctx.db, 60, async () => {
      const owner = await newUser(createApp(t.ctx.apiDeps()));
      const seen = [];
      for (let i = 0; i < 6; i++) {
        const name = i % 2 ? owner.username.toUpperCase() : owner.email;
        seen.push((await post(apis[i % 2]!, '/auth/login', freshAddress(), { login: name, password: 'wrong password' })).status);
      }
      // The limit is on attempts, so even the right password waits out the window.
      seen.push((await post(apis[0]!, '/auth/login', freshAddress(), { login: owner.username, password: PASSWORD })).status);
      return seen;
    });
    expect(answers).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('registration: 3 an hour per address whichever process answers; the 4th gets 429', async () => {
    const answers = await inOneWindow(t.ctx.db, 3600, async () => {
      const ip = freshAddress();
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await post(apis[i % 2]!, '/auth/register', ip, registration()));
      return seen;
    });
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429]);
    expect(((await answers[3]!.json()) as any).error).toMatchObject({ code: 'rate_limited', details: { rule: 'register' } });
  });

  // README: "The trade-off: **per process**, so with N API processes behind a balancer a client can get up to N× the ceiling".
  it('general ceiling: counted by each process on its own, so two processes let an address through twice', async () => {
    const ip = freshAddress();
    const statuses = [];
    for (const api of [ceilingApis[0]!, ceilingApis[0]!, ceilingApis[0]!, ceilingApis[1]!, ceilingApis[1]!, ceilingApis[1]!]) {
      statuses.push((await fetch(`http://${api.host}/api/v1/categories`, { headers: from(ip) })).status);
    }
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
  });
});
