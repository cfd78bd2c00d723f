import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { followedUploads, recommendations } from '../api/feed/routes.ts';
import { upNext } from '../api/videos/up-next.ts';
import { createDb } from '../lib/db.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { dropDatabase, ensureDatabase } from '../scripts/stack/provision.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertBulkUsers } from '../test/support/fixtures.ts';
import { percentile } from './lib/measure.ts';
import { generateVideos } from './search.ts';

// GET /feed's and GET /videos/:id/up-next's Postgres side (no HTTP) for 200 viewers who each
// follow 500 of 1,000 channels over N generated videos (the catalogue of `bench search`), with a watch
// history of 20,000 viewers × 30 videos for co-watch. Baseline in the same run: a primary-key
// SELECT. Runs in a scratch database of its own, dropped at the end.
// Needs Postgres of the local stack. Usage: npm run bench -- feed [videos=100000] [requests=200]

const say = (line = '') => process.stdout.write(`${line}\n`);

export async function benchFeed(args: string[]): Promise<void> {
  const [count = 100_000, requests = 200] = args.map(Number);
  if (!(Number.isInteger(count) && count > 0 && Number.isInteger(requests) && requests > 0)) throw new Error('Usage: npm run bench -- feed [videos] [requests]');
  const { config } = stackEnvironment();
  const url = new URL(config.postgres.url);
  url.pathname = `/streamhub_bench_feed_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(url.toString());
  const db = createDb({ url: url.toString(), poolMax: 2, applicationName: 'bench-feed' });
  try {
    await migrateToLatest(db);
    process.stdout.write(`${count} videos, 200 of 20,000 viewers following 500 channels each, 600,000 history rows: generating… `);
    const started = performance.now();
    await generateVideos(db, count);
    const viewers = await insertBulkUsers(db, 20_000);
    const channels = (await sql<{ id: string }>`select distinct owner_id as id from videos`.execute(db)).rows.map((r) => r.id);
    await sql`
      insert into follows (follower_id, followee_id)
      select v.id, c.id from unnest(${viewers.slice(0, 200)}::uuid[]) with ordinality v(id, n)
      cross join lateral (select id from unnest(${channels}::uuid[]) c(id) order by md5(c.id::text || v.n) limit 500) c`.execute(db);
    const publicVideos = (await sql<{ id: string }>`select id from videos where status = 'ready' and visibility = 'public' order by view_count desc limit 5000`.execute(db)).rows.map((r) => r.id);
    await sql`
      insert into watch_history (user_id, video_id, position_seconds, watched_at)
      select v.id, (${publicVideos}::uuid[])[1 + floor(power(random(), 2) * ${publicVideos.length})::int], 1, now() - (g || ' minutes')::interval
      from unnest(${viewers}::uuid[]) v(id), generate_series(1, 30) g
      on conflict do nothing`.execute(db);
    await sql`analyze`.execute(db);
    say(`${((performance.now() - started) / 1000).toFixed(1)} s`);

    const followers = viewers.slice(0, 200);
    const pick = <T>(list: readonly T[], i: number) => list[(i * 7919) % list.length]!;
    const timed = async (task: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < 10; i++) await task(i); // warm-up
      const ms: number[] = [];
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        await task(i);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.at(-1)! };
    };
    const sources = (await db.selectFrom('videos').select(['id', 'category_id', 'tags']).where('id', 'in', publicVideos.slice(0, 500)).execute());
    const results: [string, Awaited<ReturnType<typeof timed>>][] = [
      ['baseline: SELECT by primary key', await timed((i) => db.selectFrom('videos').select(['id', 'title']).where('id', '=', pick(publicVideos, i)).execute())],
      ['feed: uploads of 500 followed channels', await timed((i) => followedUploads(db, pick(followers, i), 24))],
      ['feed: recommendations (co-watch, then trending)', await timed((i) => recommendations(db, pick(followers, i), [], 24))],
      ['feed: both (what GET /feed reads)', await timed(async (i) => {
        const uploads = await followedUploads(db, pick(followers, i), 24);
        await recommendations(db, pick(followers, i), uploads.map((v) => v.id), 24);
      })],
      ['up next of a popular video', await timed((i) => upNext(db, pick(sources, i), 10))],
    ];
    say(`\nGET /feed and up next in Postgres over ${count} videos, one request at a time`);
    say(`${'what'.padEnd(52)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'max ms'.padStart(9)}`);
    for (const [label, r] of results) say(`${label.padEnd(52)}${r.p50.toFixed(2).padStart(9)}${r.p95.toFixed(2).padStart(9)}${r.max.toFixed(1).padStart(9)}`);
  } finally {
    await db.destroy();
    await dropDatabase(url.toString());
  }
}
