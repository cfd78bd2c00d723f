import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hlsEncodeCommand, type LocalSource } from '../lib/ffmpeg-commands.ts';
import { probeMedia, runFfmpeg } from '../lib/ffmpeg.ts';
import { connectNats } from '../lib/nats.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { videoProgressSubject, type VideoProgressMessage } from '../lib/videos.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { DEMO_PASSWORD } from '../scripts/stack/seed.ts';
import { workflowIds } from '../workflows/ids.ts';
import { planLadder, type LadderPlan } from '../workflows/plans/ladder.ts';
import { callApi } from './lib/api.ts';

// Time to publish one 1080p30 upload through the whole platform (`complete` → `ready`, on
// the running `npm start` stack), next to the same ladder as one bare FFmpeg command and as
// one FFmpeg process per rendition, all on the same generated source in the same run.
// Usage: npm run bench -- transcode [seconds=30] [runs=1]

const run = promisify(execFile);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** The ladder split into single-rendition plans, each run as its own FFmpeg at `parallel` at a time. */
async function perRendition(source: LocalSource, plan: LadderPlan, parallel: number): Promise<void> {
  const queue = plan.renditions.map((r) => ({ ...plan, renditions: [r] }));
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let one = queue.shift(); one; one = queue.shift()) {
        const out = await mkdtemp(path.join(os.tmpdir(), 'bench-rendition-'));
        await runFfmpeg(hlsEncodeCommand(source, { hlsDir: out }, one).args);
        await rm(out, { recursive: true, force: true });
      }
    }),
  );
}

export async function benchTranscode(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 30);
  const runs = Number(args[1] ?? 1);
  const { config } = stackEnvironment();
  const base = config.publicUrls.api;
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-transcode-'));
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: 'bench-transcode' });
  const temporal = await connectTemporal(config.temporal);
  try {
    const source = path.join(work, 'source.mp4');
    process.stdout.write(`Generating a ${seconds} s 1080p30 source… `);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '8M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', source]);
    const plan = planLadder(await probeMedia(source));
    const local: LocalSource = { file: source, format: 'mov' };
    process.stdout.write(`done; ladder ${plan.renditions.map((r) => r.name).join(', ')} + audio\n`);
    const { accessToken } = await callApi(base, 'POST', '/auth/login', { login: 'creator', password: DEMO_PASSWORD });
    const cores = os.availableParallelism();

    const rows: { bare: number; perRendition: number; platform: number; phases: string }[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await mkdtemp(path.join(work, 'bare-'));
      const bare = await timed(() => runFfmpeg(hlsEncodeCommand(local, { hlsDir: out }, plan).args));
      const split = await timed(() => perRendition(local, plan, cores));

      const { video, uploadUrl } = await callApi(base, 'POST', '/videos', { title: `bench ${i}` }, accessToken);
      const put = await fetch(uploadUrl, { method: 'PUT', body: await readFile(source) });
      if (!put.ok) throw new Error(`upload failed: ${put.status}`);
      const ready = new Promise<void>((resolve, reject) => {
        const sub = nats.connection.subscribe(videoProgressSubject(nats, video.id), {
          callback: (_err, msg) => {
            const m = JSON.parse(msg.string()) as VideoProgressMessage;
            if (m.status === 'processing') return;
            sub.unsubscribe();
            if (m.status === 'ready') resolve();
            else reject(new Error(`the video ${m.status}`));
          },
        });
      });
      const platform = await timed(async () => {
        await callApi(base, 'POST', `/videos/${video.id}/complete`, undefined, accessToken);
        await ready;
      });
      rows.push({ bare, perRendition: split, platform, phases: await phaseTimes(temporal, workflowIds.transcode(video.id)) });
      await callApi(base, 'DELETE', `/videos/${video.id}`, undefined, accessToken);
      process.stdout.write(`run ${i + 1}: bare ${bare.toFixed(1)} s, per-rendition ${split.toFixed(1)} s, platform ${platform.toFixed(1)} s\n`);
    }

    process.stdout.write(`\n${seconds} s 1080p30 source → ${plan.renditions.length} renditions + audio HLS (wall seconds, ${cores} cores)\n`);
    process.stdout.write(`${'run'.padEnd(5)}${'bare 1 ffmpeg'.padStart(15)}${'1 per rendition'.padStart(17)}${'platform'.padStart(10)}${'platform/bare'.padStart(15)}${'per-rend/bare'.padStart(15)}   platform activities\n`);
    rows.forEach((r, i) => {
      process.stdout.write(
        `${String(i + 1).padEnd(5)}${r.bare.toFixed(2).padStart(15)}${r.perRendition.toFixed(2).padStart(17)}${r.platform.toFixed(2).padStart(10)}` +
          `${(r.platform / r.bare).toFixed(2).padStart(15)}${(r.perRendition / r.bare).toFixed(2).padStart(15)}   ${r.phases}\n`,
      );
    });
  } finally {
    await rm(work, { recursive: true, force: true });
    await nats.connection.close();
    await temporal.connection.close();
  }
}

/** Seconds each activity of the run took, from its history: where the platform's time goes. */
async function phaseTimes(temporal: Awaited<ReturnType<typeof connectTemporal>>, workflowId: string): Promise<string> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { name: string; at: number }>();
  const parts: string[] = [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { name: s.activityType?.name ?? '?', at: ms(e.eventTime) });
    const done = e.activityTaskCompletedEventAttributes;
    const started = done && scheduled.get(String(done.scheduledEventId));
    if (started) parts.push(`${started.name} ${((ms(e.eventTime) - started.at) / 1000).toFixed(2)}`);
  }
  return parts.join(', ');
}
