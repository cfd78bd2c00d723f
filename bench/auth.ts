import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.ts';
import { createDb } from '../lib/db.ts';
import { createLogger } from '../lib/logger.ts';
import { createHttpMetrics } from '../lib/metrics.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { createStorage } from '../lib/s3.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { measure, printTable } from './lib/measure.ts';

// Accounts over real HTTP: login and profile reads through the full middleware stack
// (request context, shared rate-limit counter, JWT + account check), next to a bare Hono
// route and the bare SQL of the profile read, all in the same run against the stack's
// Postgres. Rate limits are raised so that the bench measures work, not refusals.
// Needs `npm start` (or `npm run stack:services`). Usage: npm run bench -- auth [count] [concurrency]

function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ url: string; close: () => void }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => server.close() }),
    );
  });
}

export async function benchAuth(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 2000);
  const concurrency = Number(args[1] ?? 16);
  const { config: stackConfig } = stackEnvironment();
  const config = {
    ...stackConfig,
    logLevel: 'silent',
    rateLimits: { ...stackConfig.rateLimits, generalPerMinute: 1e9, loginPerMinute: 1e9, registerPerHour: 1e9 },
  };
  const db = createDb({ url: config.postgres.url, poolMax: 10, applicationName: 'bench-auth' });
  const mongo = createMongo({ url: config.mongo.url, database: config.mongo.database, appName: 'bench-auth' });
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: 'bench-auth' });
  const temporal = await connectTemporal(config.temporal);
  const app = createApp({
    config,
    logger: createLogger('bench', 'silent'),
    metrics: createHttpMetrics('bench'),
    db,
    mongo,
    storage: createStorage(config.s3),
    nats,
    temporal,
  });
  const bare = new Hono().get('/bare', (c) => c.json({ success: true, data: { ok: true } }));
  const [real, baseline] = [await listen(app.fetch), await listen(bare.fetch)];

  const password = 'bench-password-123';
  const username = 'bench_user';
  await fetch(`${real.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@streamhub.local', username, password }),
  }); // 409 on later runs is fine
  const login = async () => {
    const res = await fetch(`${real.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: username, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { data: { accessToken: string; user: { id: string } } };
  };
  const session = await login();
  const userId = session.data.user.id;
  const get = async (url: string, headers?: Record<string, string>) => {
    const res = await fetch(url, { headers });
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    await res.arrayBuffer();
  };

  try {
    const rows = [
      await measure('bare Hono GET (baseline)', count, concurrency, () => get(`${baseline.url}/bare`)),
      await measure('bare SQL: profile select by id (baseline)', count, concurrency, async () => {
        await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
      }),
      await measure('GET /api/v1/users/:id (anonymous)', count, concurrency, () => get(`${real.url}/api/v1/users/${userId}`)),
      await measure('GET /api/v1/users/me (bearer token)', count, concurrency, () =>
        get(`${real.url}/api/v1/users/me`, { authorization: `Bearer ${session.data.accessToken}` }),
      ),
      await measure('POST /api/v1/auth/login (argon2id)', Math.min(count, 300), concurrency, async () => {
        await login();
      }),
    ];
    printTable(`accounts: concurrency ${concurrency}`, rows);
  } finally {
    await db.deleteFrom('auth_sessions').where('user_id', '=', userId).execute();
    real.close();
    baseline.close();
    await Promise.allSettled([db.destroy(), mongo.close(), nats.connection.close(), temporal.connection.close()]);
  }
}
