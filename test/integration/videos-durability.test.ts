import { once } from 'node:events';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS } from '../../activities/video-progress.ts';
import { createApp, type App } from '../../api/app.ts';
import { beginProcessing } from '../../api/videos/service.ts';
import { sleep } from '../../lib/async.ts';
import { listObjects, readObjectText } from '../../lib/s3.ts';
import type { VideoRenditionRecord } from '../../lib/schema.ts';
import { searchAttributes } from '../../lib/temporal.ts';
import { uploadSourcePath, videoPaths } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { transcodeWorkflow } from '../../workflows/transcode.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { activityAttemptsOf, activityRetryPolicies, lastActivityStartOf } from '../support/history.ts';
import { call } from '../support/http.ts';
import { h264, mediaDir, testPattern, tone } from '../support/media.ts';
import { settledVideo, submitVideo, uploadFile } from '../support/videos.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Transcodes survive what production throws at them: a media worker killed mid-encode, and
// transient faults that clear up on a later attempt.

const t = useTestContext();
const media = mediaDir('videos-durability');
afterAll(media.remove);
let app: App;
let owner: TestUser;
let source: string;

beforeAll(async () => {
  app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 } } });
  owner = await newUser(app);
  source = await media.generate('source.mp4', [...testPattern('1280x720', 30, 12), ...tone(12), ...h264, '-c:a', 'aac', '-shortest']);
});

async function renditionsOf(id: string): Promise<VideoRenditionRecord[]> {
  const row = await t.ctx.db.selectFrom('videos').select('renditions').where('id', '=', id).executeTakeFirstOrThrow();
  return row.renditions;
}

/** What a player sees of a video: each rendition's playlist and the relative names of every object. */
async function publishedOutput(id: string) {
  const root = videoPaths(id).root;
  const playlists: Record<string, string | null> = {};
  for (const r of await renditionsOf(id)) playlists[r.name] = await readObjectText(t.ctx.storage, `${videoPaths(id).hls}/${r.playlist}`);
  return { playlists, objects: (await listObjects(t.ctx.storage, root)).map((p) => p.slice(root.length)) };
}

const encodeAttempts = (workflowId: string) => activityAttemptsOf(t.ctx.temporal.client.workflow.getHandle(workflowId), 'encodeHlsRenditions');

// Real encodes on two cores, next to other test files: generous, and never a timing assertion.
describe('transcode durability', { timeout: 240_000 }, () => {
  it('a media worker SIGKILLed mid-encode is retried on another and publishes the same result', async () => {
    const reference = await withWorkers(t.ctx, async () => (await settledVideo(app, owner, await submitVideo(app, owner, source))).video);
    expect(reference.status).toBe('ready');

    // Started by hand only to shorten the heartbeat timeout, which decides how soon a dead worker's task moves on.
    const { video } = await uploadFile(app, owner, source);
    await beginProcessing(t.ctx.db, video.id, 'uploading');
    const workflowId = workflowIds.transcode(video.id);
    const handle = await t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
      workflowId,
      taskQueue: t.ctx.config.temporal.taskQueue,
      args: [{ videoId: video.id, sourceKey: uploadSourcePath(video.id), mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, heartbeatTimeout: '5 seconds' }],
    });

    const doomed = await spawnWorkerProcess(t.ctx, 'media');
    const percents: number[] = [];
    const sub = t.ctx.nats.connection.subscribe(t.ctx.nats.subject(`video.${video.id}.progress`), {
      callback: (_err, msg) => percents.push(JSON.parse(msg.string()).percent),
    });
    const replacementPid = await withWorkers(
      t.ctx,
      async () => {
        for (let i = 0; i < 1200 && !percents.some((p) => p > 0); i++) await sleep(50);
        const atKill = Math.max(...percents);
        doomed.kill('SIGKILL');
        await once(doomed, 'exit');
        expect(atKill).toBeGreaterThan(0);
        expect(atKill).toBeLessThan(PROGRESS.encoded);
        const replacement = await spawnWorkerProcess(t.ctx, 'media');
        try {
          await handle.result();
          return replacement.pid;
        } finally {
          replacement.kill('SIGTERM');
          await once(replacement, 'exit');
        }
      },
      { media: false },
    );
    sub.unsubscribe();

    // The dead worker's attempt ended on its heartbeat timeout and the replacement published:
    // usually as attempt 2, but not always. At this test's 5 s Core sends a heartbeat only every
    // 4 s (0.8 × the timeout), so a cold worker on a loaded machine has 1 s to spare and its
    // attempt can time out too. Production's minute leaves 12 s.
    const finished = await lastActivityStartOf(handle, 'encodeHlsRenditions');
    expect(finished).toMatchObject({ identity: `media@${replacementPid}`, previousTimeout: 'TIMEOUT_TYPE_HEARTBEAT' });
    expect(finished.attempt).toBeGreaterThanOrEqual(2);
    const row = await t.ctx.db.selectFrom('videos').select(['status', 'progress']).where('id', '=', video.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'ready', progress: 100 });
    expect(await renditionsOf(video.id)).toEqual(await renditionsOf(reference.id));
    const [expected, actual] = await Promise.all([publishedOutput(reference.id), publishedOutput(video.id)]);
    expect(actual).toEqual(expected);
  });

  it('retries a transient encoder fault with backoff and still publishes', async () => {
    let calls = 0;
    const { video, workflowId } = await withWorkers(
      t.ctx,
      async () => {
        const id = await submitVideo(app, owner, source);
        return { video: (await settledVideo(app, owner, id)).video, workflowId: workflowIds.transcode(id) };
      },
      {
        wrapMedia: (real) => ({
          async encodeHlsRenditions(input) {
            if (++calls === 1) throw ApplicationFailure.retryable('S3 answered 503 Slow Down');
            return real.encodeHlsRenditions(input);
          },
        }),
      },
    );
    expect(video).toMatchObject({ status: 'ready', transcodeAttempts: 1 });
    expect(calls).toBe(2);
    expect(await encodeAttempts(workflowId)).toEqual([2]);
  });

  it('marks the video failed with its reason once a fault outlasts every try, and its owner retries it to ready', async () => {
    const small = await media.generate('small.mp4', [...testPattern('320x240', 25, 2), ...h264]);
    const { video } = await uploadFile(app, owner, small);
    const workflowId = workflowIds.transcode(video.id);
    // Two tries instead of the six `complete` gives, so the backoff between them stays seconds;
    // the six are pinned below on the run the API starts.
    await beginProcessing(t.ctx.db, video.id, 'uploading');
    const exhausted = await t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
      workflowId,
      taskQueue: t.ctx.config.temporal.taskQueue,
      args: [{ videoId: video.id, sourceKey: uploadSourcePath(video.id), mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, upload: { maxBytes: t.ctx.config.videos.maxUploadBytes }, mediaAttempts: 2 }],
    });
    let calls = 0;
    const failure = await withWorkers(t.ctx, () => exhausted.result().then(() => undefined, (err: unknown) => err), {
      wrapMedia: () => ({
        async encodeHlsRenditions() {
          calls++;
          throw ApplicationFailure.retryable('S3 answered 503 Slow Down');
        },
      }),
    });
    expect(calls).toBe(2);
    expect(await encodeAttempts(workflowId)).toEqual([2]);
    // The workflow fails for good with the reason the owner reads; the internal error stays in its history.
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'TranscodeFailed', nonRetryable: true, message: 'Transcoding failed on our side; retry it later' });
    const failed = await t.ctx.db.selectFrom('videos').select(['status', 'failure_reason']).where('id', '=', video.id).executeTakeFirstOrThrow();
    expect(failed).toEqual({ status: 'failed', failure_reason: 'Transcoding failed on our side; retry it later' });
    expect((await exhausted.describe()).typedSearchAttributes.get(searchAttributes.Phase)).toBe('failed');

    const retried = await call(app, 'POST', `/api/v1/videos/${video.id}/retry`, { headers: owner.auth });
    expect(retried.status).toBe(202);
    expect(retried.json.data).toMatchObject({ status: 'processing', failureReason: null, transcodeAttempts: 2 });
    const ready = await withWorkers(t.ctx, async () => (await settledVideo(app, owner, video.id)).video);
    expect(ready).toMatchObject({ status: 'ready', transcodeAttempts: 2, failureReason: null });
    // README: "other errors retry with backoff (6 tries)": what the API's run gives each FFmpeg step.
    const retryRun = t.ctx.temporal.client.workflow.getHandle(workflowId);
    for (const step of ['probeVideoSource', 'encodeHlsRenditions']) {
      const [policy] = await activityRetryPolicies(retryRun, step);
      expect(policy).toMatchObject({ maximumAttempts: 6 });
      expect(policy!.backoffCoefficient).toBeGreaterThan(1);
    }
  });
});

