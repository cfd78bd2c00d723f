import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { foldPendingViews } from '../activities/views.ts';
import { createApp } from '../api/app.ts';
import { createDb } from '../lib/db.ts';
import { createLogger } from '../lib/logger.ts';
import { createHttpMetrics } from '../lib/metrics.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { closeStorage, createStorage } from '../lib/s3.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { createTokenSigner } from '../lib/tokens.ts';
import { dropDatabase, ensureDatabase } from '../scripts/stack/provision.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertBulkUsers } from '../test/support/fixtures.ts';
import { measureFor, printTable } from './lib/measure.ts';

// View heartbeats per second through the API in this process (`POST /videos/:id/views`:
// auth for signed-in viewers, the video's visibility, the counted-view upsert and insert, the
// watch-history upsert), every viewer on ONE video (the hot case a per-heartbeat counter
// update would serialize), half signed in and half anonymous with device ids. Baseline in the
// same run and database, at the same concurrency and pool size: a bare INSERT of one row per
// heartbeat into a table with no indexes. Afterwards the pending views are rolled up twice and
// the count is checked: videos.view_count = counted-view rows = heartbeats answered `counted`.
// Runs against a scratch database of its own; needs Postgres, NATS and Temporal of the local
// stack (`npm run stack:services`).
// Usage: npm run bench -- views [seconds=10] [concurrency=32] [viewers=2000]

const say = (line = '') => process.stdout.write(`${line}\n`);
const POOL = 10;

export async function benchViews(args: string[]): Promise<void> {
  const [seconds = 10, concurrency = 32, viewers = 2000] = args.map(Number);
  if (!(seconds > 0 && Number.isInteger(concurrency) && concurrency > 0 && Number.isInteger(viewers) && viewers >= 2)) {
    throw new Error('Usage: npm run bench -- views [seconds] [concurrency] [viewers]');
  }
  const { config: base } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const url = new URL(base.postgres.url);
  url.pathname = `/streamhub_bench_views_${tag}`;
  const config = {
    ...base,
    postgres: { ...base.postgres, url: url.toString(), poolMax: POOL },
    rateLimits: { ...base.rateLimits, generalPerMinute: 100_000_000 },
    views: { ...base.views, heartbeatsPerMinute: 100_000_000, anonymousHeartbeatsPerAddressPerMinute: 100_000_000 },
  };
  const logger = createLogger('bench', 'warn');
  await ensureDatabase(url.toString());
  const db = createDb({ url: url.toString(), poolMax: POOL, applicationName: 'bench-views' });
  const storage = createStorage({ ...config.s3, keyPrefix: `bench-views-${tag}/` });
  const mongo = createMongo({ url: config.mongo.url, database: `streamhub_bench_views_${tag}`, appName: 'bench-views' });
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: `bench${tag}.`, name: 'bench-views' });
  const temporal = await connectTemporal(config.temporal);
  try {
    await migrateToLatest(db);
    const half = Math.floor(viewers / 2);
    const [ownerId = '', ...userIds] = await insertBulkUsers(db, 1 + half);
    const sessions = userIds.map((userId) => ({ id: randomUUID(), user_id: userId, expires_at: new Date(Date.now() + 3600_000) }));
    for (let i = 0; i < sessions.length; i += 1000) await db.insertInto('auth_sessions').values(sessions.slice(i, i + 1000)).execute();
    const signer = createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: 3600 });
    const tokens = await Promise.all(sessions.map(async (s) => (await signer.signAccess({ userId: s.user_id, role: 'viewer', sessionId: s.id })).token));
    const devices = Array.from({ length: viewers - half }, () => `bench-${randomBytes(8).toString('hex')}`);
    const video = await db
      .insertInto('videos')
      .values({ owner_id: ownerId, title: 'Hot video', source: 'upload', source_key: `uploads/${randomUUID()}`, status: 'ready', visibility: 'public', duration_seconds: 600, ready_at: new Date(), master_playlist_key: 'v/master.m3u8', poster_key: null, storyboard_key: null, idempotency_key: null, source_size_bytes: null, failure_reason: null, width: 320, height: 240, deleted_at: null, moderation_hidden_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`create table bench_bare_heartbeats (video_id uuid not null, viewer text not null, position_seconds float8 not null, at timestamptz not null default now())`.execute(db);

    const bare = await measureFor('bare INSERT (one row, no index)', seconds, concurrency, async (i) => {
      await sql`insert into bench_bare_heartbeats (video_id, viewer, position_seconds) values (${video.id}, ${`d:${devices[i % devices.length]}`}, ${i % 600})`.execute(db);
    });

    const app = createApp({ config, logger, metrics: createHttpMetrics('bench'), db, mongo, storage, nats, temporal });
    let counted = 0;
    const heartbeats = await measureFor('POST /videos/:id/views (API, in process)', seconds, concurrency, async (i) => {
      const viewer = i % viewers;
      const signedIn = viewer < half;
      const res = await app.request(`/api/v1/videos/${video.id}/views`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${tokens[viewer]}` } : {}) },
        body: JSON.stringify({ positionSeconds: i % 600, ...(signedIn ? {} : { deviceId: devices[viewer - half] }) }),
      });
      if (res.status !== 200) throw new Error(`heartbeat answered ${res.status}`);
      if (((await res.json()) as { data: { counted: boolean } }).data.counted) counted++;
    });

    const folded = [await foldAll(), await foldAll()];
    const { rows } = await sql<{ view_count: number; rows: number }>`
      select v.view_count, (select count(*) from video_views w where w.video_id = v.id)::int as rows from videos v where v.id = ${video.id}`.execute(db);
    const check = rows[0]!;
    if (check.view_count !== counted || check.rows !== counted || folded[1] !== 0) {
      throw new Error(`count mismatch: ${JSON.stringify({ counted, ...check, folded })}`);
    }

    printTable(`${viewers} viewers (${half} signed in) on one video, ${concurrency} in flight, pool ${POOL}, ${seconds} s each`, [bare, heartbeats]);
    say(`heartbeats / bare inserts: ${(heartbeats.perSecond / bare.perSecond).toFixed(2)}; failures: ${heartbeats.failures} (bare ${bare.failures})`);
    say(`views counted: ${counted} (one per viewer per ${config.views.windowSeconds} s window; ${heartbeats.count} heartbeats); rolled up ${folded[0]} then ${folded[1]}; view_count = rows = ${check.view_count}`);
  } finally {
    await temporal.connection.close();
    await nats.connection.close();
    closeStorage(storage);
    await mongo.db.dropDatabase().catch(() => {});
    await mongo.close();
    await db.destroy();
    await dropDatabase(url.toString());
  }

  async function foldAll(): Promise<number> {
    let total = 0;
    for (let n = -1; n !== 0; total += n) n = await foldPendingViews(db);
    return total;
  }
}
