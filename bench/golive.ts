import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { sql } from 'kysely';
import { sleep } from '../lib/async.ts';
import { createDb } from '../lib/db.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { DEMO_PASSWORD } from '../scripts/stack/seed.ts';
import { percentile } from './lib/measure.ts';
import { callApi } from './lib/api.ts';

// Go-live latency on the running `npm start` stack: from the moment an encoder starts
// publishing to GET /streams/:id saying `live`, and to the first follower's notification
// row; next to the bare nginx-rtmp publish (connect + handshake + publish + one frame, no
// hooks) and the same publish through the stream-key hook, measured in the same run.
// Usage: npm run bench -- golive [runs=20]

const encoderArgs = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p'];

/** Seconds for one-frame publish to finish: connect, handshake, publish accepted, frame sent. */
async function oneFramePublish(url: string): Promise<number> {
  const started = performance.now();
  const child = spawn('ffmpeg', [...encoderArgs, '-frames:v', '1', '-f', 'flv', url], { stdio: 'ignore' });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`publish to ${url} failed (${code})`);
  return performance.now() - started;
}

export async function benchGolive(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? 20);
  const { config } = stackEnvironment();
  const base = config.publicUrls.api;
  const relay = config.rtmpRelayUrl;
  const db = createDb({ url: config.postgres.url, poolMax: 2, applicationName: 'bench-golive' });
  const { accessToken, user } = await callApi(base, 'POST', '/auth/login', { login: 'creator', password: DEMO_PASSWORD });
  // Twenty go-lives need more streams than a creator may open per hour; the bench is not abuse.
  const lift = () => db.deleteFrom('rate_limits').where('key', '=', `stream-create:${user.id}`).execute();
  await lift();
  const probe = await callApi(base, 'POST', '/streams', { title: 'golive probe', reconnectWindowSeconds: 1800 }, accessToken);
  const samples = { bare: [] as number[], hooked: [] as number[], live: [] as number[], notified: [] as number[] };
  const encoders: ChildProcess[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      samples.bare.push(await oneFramePublish(`${relay}/bench-bare-${Date.now()}`));
      samples.hooked.push(await oneFramePublish(`${config.publicUrls.rtmp}/${probe.streamKey}`));

      await lift();
      const stream = await callApi(base, 'POST', '/streams', { title: `golive ${i}` }, accessToken);
      const started = performance.now();
      const encoder = spawn('ffmpeg', ['-re', ...encoderArgs, '-f', 'flv', `${config.publicUrls.rtmp}/${stream.streamKey}`], { stdio: 'ignore' });
      encoders.push(encoder);
      let live = 0;
      let notified = 0;
      while (!live || !notified) {
        if (performance.now() - started > 30_000) throw new Error(`stream ${stream.id} not live and notified within 30 s`);
        if (!live && (await callApi(base, 'GET', `/streams/${stream.id}`)).status === 'live') live = performance.now() - started;
        if (!notified) {
          const row = await sql<{ n: number }>`select count(*)::int as n from notifications where type = 'stream_live' and entity_id = ${stream.id}`.execute(db);
          if (row.rows[0]!.n > 0) notified = performance.now() - started;
        }
        await sleep(20);
      }
      samples.live.push(live);
      samples.notified.push(notified);
      await callApi(base, 'POST', `/streams/${stream.id}/end`, undefined, accessToken);
      await once(encoder, 'exit');
      process.stdout.write(`run ${i + 1}: live ${live.toFixed(0)} ms, notified ${notified.toFixed(0)} ms\n`);
    }
    await callApi(base, 'POST', `/streams/${probe.id}/end`, undefined, accessToken);
  } finally {
    for (const e of encoders) if (e.exitCode === null) e.kill('SIGKILL');
    await db.destroy();
  }
  const row = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    process.stdout.write(`${label.padEnd(58)}${percentile(sorted, 50).toFixed(0).padStart(8)}${percentile(sorted, 95).toFixed(0).padStart(8)}\n`);
  };
  process.stdout.write(`\ngo-live latency over ${runs} runs (ms)${' '.repeat(26)}     p50     p95\n`);
  row('bare nginx-rtmp publish, 1 frame, no hooks (baseline)', samples.bare);
  row('publish through the stream-key hook, 1 frame', samples.hooked);
  row('encoder start → GET /streams/:id says live', samples.live);
  row('encoder start → first follower notification row', samples.notified);
}
