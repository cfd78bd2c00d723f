import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { beginProcessing } from '../../api/videos/service.ts';
import { headObject, listObjects } from '../../lib/s3.ts';
import { recordingPath } from '../../lib/streams.ts';
import { pinnedSourcePath, uploadSourcePath, videoPaths } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { publishEndedSignal, publishStartedSignal, recordingReadySignal, streamStateQuery, type streamWorkflow } from '../../workflows/stream.ts';
import type { transcodeWorkflow } from '../../workflows/transcode.ts';
import { useTestContext } from '../support/context.ts';
import { activityAttemptsOf } from '../support/history.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { insertStream, until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { h264, mediaDir, testPattern, tone } from '../support/media.ts';
import { startLink, type Link } from '../support/private-services.ts';
import { uploadFile } from '../support/videos.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Media workers SIGKILLed in the windows that leave things behind: mid-encode (FFmpeg and
// scratch files), while the video is being deleted, and between storing a recording in S3 and
// removing nginx's copies. Each ends in the same state as without the crash, with nothing
// orphaned: no FFmpeg still running, no scratch directory, no object, no recording on disk.

const t = useTestContext();
const media = mediaDir('media-crash');
const scratchDirs: string[] = [];
const links: Link[] = [];
const workers: ChildProcess[] = [];
let app: App;
let owner: TestUser;
let source: string;

beforeAll(async () => {
  app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 } } });
  owner = await newUser(app);
  source = await media.generate('source.mp4', [...testPattern('640x360', 30, 10), ...tone(10), ...h264, '-c:a', 'aac', '-shortest']);
});
afterAll(async () => {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  for (const link of links) await link.close();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  media.remove();
});

/** A TMPDIR of the test's own for the worker processes: their scratch is `<it>/streamhub-media`. */
function scratchRoot(): { tmpdir: string; work: string } {
  const tmpdir = mkdtempSync(path.join(os.tmpdir(), 'media-crash-tmp-'));
  scratchDirs.push(tmpdir);
  return { tmpdir, work: path.join(tmpdir, 'streamhub-media') };
}

async function mediaWorker(env: Record<string, string>): Promise<ChildProcess> {
  const worker = await spawnWorkerProcess(t.ctx, 'media', { env });
  workers.push(worker);
  return worker;
}

async function kill(worker: ChildProcess): Promise<void> {
  const exited = once(worker, 'exit');
  worker.kill('SIGKILL');
  await exited;
}

async function stop(worker: ChildProcess): Promise<void> {
  const exited = once(worker, 'exit');
  worker.kill('SIGTERM');
  await exited;
}

/** FFmpeg processes on this machine working for `id` (its name is in their scratch paths), with their parents. */
function ffmpegFor(id: string): { pid: number; ppid: number }[] {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '') !== 'ffmpeg' || !argv.some((arg) => arg.includes(id))) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      found.push({ pid: Number(entry), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) });
    } catch {
      // exited while being read
    }
  }
  return found;
}

/** A directory's entries, none once it is gone: a worker's sweep may remove it while we read. */
function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Attempt directories left in a scratch root, whoever owned them. */
const attemptsIn = (work: string) => entriesOf(work).flatMap((owner) => entriesOf(path.join(work, owner)).map((a) => `${owner}/${a}`));

/** Uploaded and started by hand, to shorten the heartbeat timeout that decides how soon a dead worker's task moves on. */
async function startTranscode(): Promise<{ id: string; handle: Awaited<ReturnType<typeof t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>>> }> {
  const { video } = await uploadFile(app, owner, source);
  await beginProcessing(t.ctx.db, video.id, 'uploading');
  const handle = await t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
    workflowId: workflowIds.transcode(video.id),
    taskQueue: t.ctx.config.temporal.taskQueue,
    args: [{ videoId: video.id, sourceKey: uploadSourcePath(video.id), mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, heartbeatTimeout: '5 seconds' }],
  });
  return { id: video.id, handle };
}

describe('media workers killed mid-work', { timeout: 240_000 }, () => {
  it('an encode killed with its worker leaves no FFmpeg running, and its scratch goes once a worker starts', async () => {
    const scratch = scratchRoot();
    const { id, handle } = await startTranscode();
    const doomed = await mediaWorker({ TMPDIR: scratch.tmpdir });
    await withWorkers(
      t.ctx,
      async () => {
        await until(() => ffmpegFor(id).some((p) => p.ppid === doomed.pid), 'the encode’s FFmpeg', 120_000);
        await kill(doomed);
        // FFmpeg outlives its worker only until it next writes its progress to the closed pipe.
        await until(() => ffmpegFor(id).length === 0, 'the orphaned FFmpeg to exit', 30_000);
        expect(attemptsIn(scratch.work)).toEqual([expect.stringMatching(new RegExp(`^pid-${doomed.pid}/${id}-`))]);

        const replacement = await mediaWorker({ TMPDIR: scratch.tmpdir });
        try {
          await handle.result();
        } finally {
          await stop(replacement);
        }
      },
      { media: false },
    );
    const row = await t.ctx.db.selectFrom('videos').select(['status', 'progress']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'ready', progress: 100 });
    expect(ffmpegFor(id)).toEqual([]);
    expect(attemptsIn(scratch.work)).toEqual([]);
    expect(existsSync(path.join(scratch.work, `pid-${doomed.pid}`))).toBe(false);
  });

  it('a media worker killed while its video is deleted mid-encode: the video, its objects, FFmpeg and scratch are all gone', async () => {
    const scratch = scratchRoot();
    const { id, handle } = await startTranscode();
    const doomed = await mediaWorker({ TMPDIR: scratch.tmpdir });
    await withWorkers(
      t.ctx,
      async () => {
        await until(() => ffmpegFor(id).some((p) => p.ppid === doomed.pid), 'the encode’s FFmpeg', 120_000);
        expect((await call(app, 'DELETE', `/api/v1/videos/${id}`, { headers: owner.auth })).status).toBe(202);
        await kill(doomed);
        // The transcode waits for its encode to be cancelled; with its worker dead, the attempt
        // times out (an activity being cancelled is not retried). As in production, a media worker
        // is running again meanwhile (with scratch of its own, swept below apart).
        const replacement = await mediaWorker({ TMPDIR: scratchRoot().tmpdir });
        try {
          await t.ctx.temporal.client.workflow.getHandle(workflowIds.videoRemoval(id)).result();
          await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
          await until(() => ffmpegFor(id).length === 0, 'the orphaned FFmpeg to exit', 30_000);
        } finally {
          await stop(replacement);
        }
      },
      { media: false },
    );
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    // Whether the cancel reached the encode before its worker died or the encode timed out, the run cleaned up.
    expect(await activityAttemptsOf(handle, 'settleCancelledTranscode')).toEqual([1]);
    const row = await t.ctx.db.selectFrom('videos').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    for (const key of [videoPaths(id).root, uploadSourcePath(id), pinnedSourcePath(id)]) expect(await listObjects(t.ctx.storage, key)).toEqual([]);

    // The next media worker on this host sweeps what the killed one left.
    expect(attemptsIn(scratch.work)).toHaveLength(1);
    const next = await mediaWorker({ TMPDIR: scratch.tmpdir });
    await until(() => attemptsIn(scratch.work).length === 0, 'the killed worker’s scratch swept', 60_000);
    await stop(next);
  });

  it('a media worker killed after storing a recording in S3 and before removing nginx’s copies: the retry removes them', async () => {
    const scratch = scratchRoot();
    const recordingsDir = mkdtempSync(path.join(os.tmpdir(), 'media-crash-recordings-'));
    scratchDirs.push(recordingsDir);
    const streamId = await insertStream(t.ctx, owner.id, 'idle');
    // Two sessions of one broadcast, as nginx-rtmp records them.
    const files = [`${streamId}-1700000000.flv`, `${streamId}-1700000100.flv`];
    for (const file of files) {
      copyFileSync(await media.generate(file, [...testPattern('320x240', 30, 2), ...tone(2), ...h264, '-c:a', 'aac', '-shortest', '-f', 'flv']), path.join(recordingsDir, file));
    }

    // The doomed worker reaches S3 through a link that lets its upload of the recording through
    // and holds MinIO's answer: stored, and the worker never hears so.
    const s3 = new URL(t.ctx.config.s3.endpoint);
    const link = await startLink({ host: s3.hostname, port: Number(s3.port) });
    links.push(link);
    link.holdAnswersTo((request) => new RegExp(`^PUT \\S*recordings/${streamId}/broadcast\\.flv`, 'm').test(request));
    const env = { TMPDIR: scratch.tmpdir, RTMP_RECORDINGS_DIR: recordingsDir };
    const doomed = await mediaWorker({ ...env, S3_ENDPOINT: `http://127.0.0.1:${link.port}` });

    await withWorkers(
      t.ctx,
      async () => {
        const stream = await t.ctx.temporal.client.workflow.start<typeof streamWorkflow>('streamWorkflow', {
          workflowId: workflowIds.stream(streamId),
          taskQueue: t.ctx.config.temporal.taskQueue,
          args: [{ streamId, ownerId: owner.id, title: 'Recorded', mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, reconnectWindowSeconds: 1, recordingGraceSeconds: 5 }],
        });
        await stream.signal(publishStartedSignal, { sessionId: 'session-1' });
        await until(async () => (await stream.query(streamStateQuery)).status === 'live', 'the stream live');
        for (const file of files) await stream.signal(recordingReadySignal, { file });
        await stream.signal(publishEndedSignal, { sessionId: 'session-1' });

        await link.held;
        await until(async () => Boolean(await headObject(t.ctx.storage, recordingPath(streamId))), 'the recording in S3', 60_000);
        await kill(doomed);
        // The window: in S3, and still on disk.
        expect(readdirSync(recordingsDir).sort()).toEqual(files);
        await link.close();

        const replacement = await mediaWorker(env);
        try {
          // The stored recording's activity is retried once its heartbeat timeout (1 minute) passes.
          const state = await stream.result();
          expect(state).toMatchObject({ status: 'ended', recordings: files, vodVideoId: expect.any(String) });
        } finally {
          await stop(replacement);
        }
      },
      { media: false },
    );
    expect(readdirSync(recordingsDir)).toEqual([]);
    expect(await listObjects(t.ctx.storage, `recordings/${streamId}/`)).toEqual([recordingPath(streamId)]);
    const vod = await t.ctx.db.selectFrom('videos').select(['source', 'status', 'source_key']).where('source', '=', 'recording').where('owner_id', '=', owner.id).execute();
    expect(vod).toEqual([{ source: 'recording', status: 'ready', source_key: recordingPath(streamId) }]);
    expect(attemptsIn(scratch.work)).toEqual([]);
  });
});
