import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { DEMO_PASSWORD } from '../scripts/stack/seed.ts';
import { createScratchDatabase } from './api/fixtures.ts';
import { summarizeProfile } from './api/profile.ts';
import { runWrk, wrkInstalled, type LoadResult } from './api/wrk.ts';
import { cpuSeconds, freePort, stopChild } from './realtime/children.ts';
import { profilesIn } from './realtime/profile.ts';
import { callApi } from './lib/api.ts';
import { startApi, waitUntilServing } from './lib/api-process.ts';

// HTTP API throughput and latency, in one run: a bare Hono + pg route selecting one user by
// name (the baseline) and StreamHub's own API process (`api/server.ts`, logging at info to a
// file as the local stack does) on an anonymous DB-backed GET, an authenticated GET and a list
// page, each loaded by wrk with the same connections for the same time. The API runs against
// a scratch database of the bench's own; the general rate limit is raised so that every
// request is counted but none is refused.
// Needs Postgres, NATS and Temporal of the local stack (`npm run stack:services`) and wrk.
// Usage: npm run bench -- api [seconds=10] [connections=50] [--cpu-prof]

const WARMUP_SECONDS = 2;
const say = (line = '') => process.stdout.write(`${line}\n`);

interface Target {
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** CPU seconds the serving process has used so far. */
  serverCpu: () => number;
}

interface Measured extends LoadResult {
  /** CPU the serving process spent per answered request, whoever else shares the cores. */
  cpuMicrosPerRequest: number;
}

export async function benchApi(args: string[]): Promise<void> {
  const cpuProfile = args.includes('--cpu-prof');
  const [seconds = 10, connections = 50] = args.filter((a) => !a.startsWith('--')).map(Number);
  if (!(seconds > 0 && Number.isInteger(connections) && connections > 0)) {
    throw new Error('Usage: npm run bench -- api [seconds > 0] [connections > 0] [--cpu-prof]');
  }
  if (!wrkInstalled()) {
    throw new Error('bench api needs wrk, which is not installed here: `apt-get install -y wrk` (Debian), then run it again.');
  }
  const threads = Math.max(1, Math.min(os.availableParallelism(), connections));
  const { config, env } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'streamhub-bench-api-'));
  // Ctrl-C stops wrk and falls through to the clean-up below, so no scratch database is left.
  const interrupt = new AbortController();
  const onSigint = () => {
    say('\ninterrupted; cleaning up');
    interrupt.abort();
  };
  process.once('SIGINT', onSigint);
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const scratch = await createScratchDatabase(config, tag);
    cleanups.push(scratch.drop);
    interrupt.signal.throwIfAborted();
    const bare = await startBareServer(scratch.url, config.postgres.poolMax);
    cleanups.unshift(bare.close);

    const port = await freePort();
    const api = startApi({
      env: { ...env, DATABASE_URL: scratch.url, API_HOST: '127.0.0.1', API_PORT: String(port), RATE_LIMIT_GENERAL_PER_MINUTE: '1000000000' },
      logFile: path.join(workDir, 'api.log'),
      profileDir: cpuProfile ? workDir : undefined,
    });
    cleanups.unshift(() => stopChild(api, 'SIGTERM', 20_000));
    const base = `http://127.0.0.1:${port}`;
    await waitUntilServing(api, `${base}/api/v1/users/creator`, path.join(workDir, 'api.log'));
    const token = await accessToken(base);

    const ownCpu = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    const apiCpu = () => cpuSeconds(api.pid!);
    const targets: Target[] = [
      { label: 'bare Hono + pg: user by name (baseline)', url: `${bare.url}/users/creator`, serverCpu: ownCpu },
      { label: 'GET /api/v1/users/creator (anonymous)', url: `${base}/api/v1/users/creator`, serverCpu: apiCpu },
      { label: 'GET /api/v1/users/me (bearer token)', url: `${base}/api/v1/users/me`, headers: { authorization: `Bearer ${token}` }, serverCpu: apiCpu },
      { label: 'GET /api/v1/streams?limit=20 (list page)', url: `${base}/api/v1/streams?limit=20`, serverCpu: apiCpu },
    ];
    say(
      `api: wrk -t${threads} -c${connections} -d${seconds}s per target after ${WARMUP_SECONDS} s of warm-up, ` +
        `${os.availableParallelism()} cores shared by wrk, both servers and Postgres`,
    );
    const results: Measured[] = [];
    let apiRequests = 0;
    for (const target of targets) {
      await expectOk(target);
      const warmup = await runWrk(target.url, { connections, threads, seconds: WARMUP_SECONDS, headers: target.headers, signal: interrupt.signal });
      if (target.serverCpu === apiCpu) apiRequests += warmup.requests;
      const cpuBefore = target.serverCpu();
      const load = await runWrk(target.url, { connections, threads, seconds, headers: target.headers, signal: interrupt.signal });
      results.push({ ...load, cpuMicrosPerRequest: (1e6 * (target.serverCpu() - cpuBefore)) / Math.max(1, load.requests) });
      if (target.serverCpu === apiCpu) apiRequests += load.requests;
    }
    printResults(targets, results);

    if (cpuProfile) {
      await stopChild(api, 'SIGTERM', 20_000); // writes the profile
      printProfile(workDir, apiRequests);
    }
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
    for (const cleanup of cleanups) await cleanup();
    if (!cpuProfile) rmSync(workDir, { recursive: true, force: true });
  }
}

function startBareServer(databaseUrl: string, poolMax: number): Promise<{ url: string; close: () => Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolMax });
  // The same statement findProfile sends for a username.
  const text =
    'select "users"."id", "users"."username", "users"."display_name", "users"."bio", "users"."avatar_url", "users"."role", ' +
    '"users"."follower_count", "users"."following_count", "users"."created_at" from "users" where "deleted_at" is null and lower(username) = $1';
  const app = new Hono().get('/users/:name', async (c) => {
    const { rows } = await pool.query(text, [c.req.param('name').toLowerCase()]);
    if (!rows[0]) return c.json({ success: false }, 404);
    return c.json({ success: true, data: rows[0] });
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: async () => {
          await new Promise((done) => server.close(done));
          await pool.end();
        },
      }),
    );
  });
}

async function accessToken(base: string): Promise<string> {
  const { accessToken } = await callApi(base, 'POST', '/auth/login', { login: 'viewer1', password: DEMO_PASSWORD });
  return accessToken;
}

async function expectOk(target: Target): Promise<void> {
  const res = await fetch(target.url, { headers: target.headers });
  if (!res.ok) throw new Error(`${target.label}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

function printResults(targets: Target[], results: Measured[]): void {
  const bare = results[0]!;
  const columns: [string, number, (r: Measured) => string][] = [
    ['req/s', 9, (r) => r.requestsPerSecond.toFixed(0)],
    ['p50 ms', 8, (r) => r.p50Ms.toFixed(2)],
    ['p99 ms', 8, (r) => r.p99Ms.toFixed(2)],
    ['failed', 7, (r) => String(r.failures)],
    ['of bare req/s', 14, (r) => `${((100 * r.requestsPerSecond) / bare.requestsPerSecond).toFixed(0)}%`],
    ['p99 / bare', 11, (r) => `${(r.p99Ms / bare.p99Ms).toFixed(1)}×`],
    ['CPU µs/req', 11, (r) => r.cpuMicrosPerRequest.toFixed(0)],
    ['CPU / bare', 11, (r) => `${(r.cpuMicrosPerRequest / bare.cpuMicrosPerRequest).toFixed(1)}×`],
  ];
  const width = Math.max(...targets.map((t) => t.label.length)) + 2;
  say();
  say(`${'target'.padEnd(width)}${columns.map(([title, w]) => title.padStart(w)).join('')}`);
  results.forEach((r, i) => say(`${targets[i]!.label.padEnd(width)}${columns.map(([, w, cell]) => cell(r).padStart(w)).join('')}`));
  const anonymous = results[1]!;
  say(
    `\nanonymous GET: ${((100 * anonymous.requestsPerSecond) / bare.requestsPerSecond).toFixed(0)}% of bare throughput ` +
      `(target ≥ 60%), p99 ${anonymous.p99Ms.toFixed(1)} ms (target ≤ 25 ms)`,
  );
  say('CPU µs/req: CPU time of the serving process per answered request (/proc), far less sensitive than req/s to other load on the machine.');
  if (results.some((r) => r.failures)) say('Some requests failed (non-2xx or socket errors): see the "failed" column.');
}

function printProfile(dir: string, requests: number): void {
  for (const file of profilesIn(dir)) {
    const { total, owners, functions } = summarizeProfile(file);
    say(`\nAPI CPU profile ${file} (open in Chrome DevTools): ${total.toFixed(0)} ms serving ${requests} requests of the three StreamHub targets (warm-ups included), ${((1000 * total) / requests).toFixed(0)} µs each on the main thread; idle time and start-up left out.`);
    say('by owner (µs per request):');
    for (const { what, ms, share } of owners) say(`${(share * 100).toFixed(1).padStart(6)}% ${((1000 * ms) / requests).toFixed(1).padStart(7)}  ${what}`);
    say('by function (µs per request):');
    for (const { what, ms, share } of functions) say(`${(share * 100).toFixed(1).padStart(6)}% ${((1000 * ms) / requests).toFixed(1).padStart(7)}  ${what}`);
  }
}
