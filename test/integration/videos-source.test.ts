import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { beginProcessing } from '../../api/videos/service.ts';
import { createMediaActivities } from '../../activities/media.ts';
import { sleep } from '../../lib/async.ts';
import { createStorage, headObject, listObjects } from '../../lib/s3.ts';
import { pinnedSourcePath, uploadSourcePath } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { retentionWorkflow } from '../../workflows/maintenance.ts';
import type { transcodeWorkflow } from '../../workflows/transcode.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { h264, mediaDir, testPattern } from '../support/media.ts';
import { settledVideo, uploadFile } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';

// What a transcode checks is what it encodes, whatever is PUT to the upload URL after
// `complete`; and a video deleted while its transcode is still writing keeps nothing in S3.
// Real API, MinIO, Temporal workers and FFmpeg.

const t = useTestContext();
const media = mediaDir('videos-source');
afterAll(media.remove);
let app: App;
let owner: TestUser;
let small: string;
let other: string;

beforeAll(async () => {
  app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 } } });
  owner = await newUser(app);
  small = await media.generate('small.mp4', [...testPattern('320x240', 25, 2), ...h264]);
  other = await media.generate('other.mp4', [...testPattern('640x360', 25, 6), ...h264]);
});

const complete = (a: App, id: string) => call(a, 'POST', `/api/v1/videos/${id}/complete`, { headers: owner.auth });
const put = async (url: string, file: string) => (await fetch(url, { method: 'PUT', body: await readFile(file) })).status;

/** Polls until `check` holds (each poll a real read); fails after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) if (await check()) return;
  throw new Error(`timed out waiting until ${what}`);
}

const sourceKeyOf = async (id: string) =>
  (await t.ctx.db.selectFrom('videos').select('source_key').where('id', '=', id).executeTakeFirstOrThrow()).source_key;

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('the source of a transcode cannot change after complete', { timeout: 240_000 }, () => {
  it('encodes the file that was checked, not one PUT to the upload URL afterwards, and sweeps what was PUT', async () => {
    const { video, uploadUrl } = await uploadFile(app, owner, small);
    expect((await complete(app, video.id)).status).toBe(202);

    // Only the platform queue runs at first: the source is pinned, nothing is probed yet.
    await withWorkers(t.ctx, () => eventually('the source is pinned', async () => (await sourceKeyOf(video.id)) === pinnedSourcePath(video.id)), { media: false });
    expect(await headObject(t.ctx.storage, uploadSourcePath(video.id))).toBeNull();
    // The URL still accepts a PUT (S3 cannot revoke it), but nothing reads that key any more.
    expect(await put(uploadUrl, other)).toBe(200);

    const ready = await withWorkers(t.ctx, () => settledVideo(app, owner, video.id));
    expect(ready.video).toMatchObject({ status: 'ready', width: 320, height: 240 });
    expect(ready.video.durationSeconds).toBeCloseTo(2, 0);
    expect(await headObject(t.ctx.storage, pinnedSourcePath(video.id))).toEqual({ sizeBytes: (await readFile(small)).length });
    expect(await headObject(t.ctx.storage, uploadSourcePath(video.id))).toEqual({ sizeBytes: (await readFile(other)).length });

    // The daily retention run deletes bytes PUT to a completed video's upload URL.
    await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', {
        workflowId: `maintenance/retention-${t.ctx.id}`,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ readNotificationDays: 30 }],
      }),
    );
    expect(await headObject(t.ctx.storage, uploadSourcePath(video.id))).toBeNull();
    expect(await headObject(t.ctx.storage, pinnedSourcePath(video.id))).not.toBeNull();
  });

  it('holds the size limit on the file it encodes when a larger one is PUT after complete', async () => {
    const smallBytes = (await readFile(small)).length;
    const otherBytes = (await readFile(other)).length;
    expect(otherBytes).toBeGreaterThan(smallBytes + 1);
    // The limit admits the checked file and one byte more.
    const limited = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, videos: { ...t.ctx.config.videos, maxUploadBytes: smallBytes + 1 } } });
    const { video, uploadUrl } = await uploadFile(limited, owner, small);
    expect((await complete(limited, video.id)).status).toBe(202);
    // PUT again before any worker ran: the bigger file is what the transcode finds.
    expect(await put(uploadUrl, other)).toBe(200);

    const { video: failed } = await withWorkers(t.ctx, () => settledVideo(app, owner, video.id));
    expect(failed).toMatchObject({
      status: 'failed',
      failureReason: `The file is ${otherBytes} bytes; videos may be at most ${smallBytes + 1} bytes`,
    });
    const history = await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(video.id)).fetchHistory();
    const activities = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(activities).toEqual(['pinUploadedSource', 'markVideoFailed']);
    expect(await headObject(t.ctx.storage, pinnedSourcePath(video.id))).toBeNull();
    expect(await headObject(t.ctx.storage, uploadSourcePath(video.id))).toBeNull();
  });
});

describe('deleting a video while its transcode publishes', { timeout: 240_000 }, () => {
  it('leaves nothing in S3 when the removal ran before the encoder wrote its HLS', async () => {
    // The removal cannot stop a transcode that starts after it (a VOD started as its stream
    // ends, or `complete` racing the DELETE): S3 is slow to delete, the encoder is slow to
    // write, and the encoder's writes land after the removal has finished.
    const removalHeld = gate();
    const removalReleased = gate();
    const writesHeld = gate();
    const writesReleased = gate();
    let videoId = '';
    const slowStorage = createStorage(t.ctx.config.s3);
    slowStorage.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = String((args.input as { Key?: string }).Key ?? '');
        if (context.commandName === 'PutObjectCommand' && videoId && key.includes(`videos/${videoId}/`)) {
          writesHeld.open();
          await writesReleased.opened;
        }
        return next(args);
      },
      { step: 'initialize', name: 'slowVideoWrites' },
    );

    const { video } = await uploadFile(app, owner, small);
    videoId = video.id;
    await beginProcessing(t.ctx.db, video.id, 'uploading');
    const transcode = await withWorkers(
      t.ctx,
      async () => {
        expect((await call(app, 'DELETE', `/api/v1/videos/${video.id}`, { headers: owner.auth })).status).toBe(202);
        await removalHeld.opened;
        // Started by hand, like a stream's VOD: its source is not an upload to pin.
        const handle = await t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
          workflowId: workflowIds.transcode(video.id),
          taskQueue: t.ctx.config.temporal.taskQueue,
          args: [{ videoId: video.id, sourceKey: uploadSourcePath(video.id), mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue }],
        });
        await writesHeld.opened;
        removalReleased.open();
        await t.ctx.temporal.client.workflow.getHandle(workflowIds.videoRemoval(video.id)).result();
        writesReleased.open();
        return handle.result().then(
          () => 'completed',
          (err: Error) => String((err.cause as Error | undefined)?.message ?? err.message),
        );
      },
      {
        wrap: (real) => ({
          async removeVideo(input) {
            removalHeld.open();
            await removalReleased.opened;
            return real.removeVideo(input);
          },
        }),
        wrapMedia: () => createMediaActivities({ db: t.ctx.db, nats: t.ctx.nats, storage: slowStorage, recordingsDir: t.ctx.config.rtmpRecordingsDir, liveHlsDir: t.ctx.config.rtmpHlsDir, limits: t.ctx.config.media }),
      },
    );
    slowStorage.client.destroy();

    expect(transcode).toBe('The video was deleted while it was being transcoded');
    expect(await listObjects(t.ctx.storage, `videos/${video.id}/`)).toEqual([]);
    expect(await listObjects(t.ctx.storage, `uploads/${video.id}/`)).toEqual([]);
    expect(await listObjects(t.ctx.storage, `sources/${video.id}/`)).toEqual([]);
    const row = await t.ctx.db.selectFrom('videos').select(['status', 'deleted_at']).where('id', '=', video.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.status).toBe('processing');
  });
});
