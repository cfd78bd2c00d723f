import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { serve, type ServerType } from '@hono/node-server';
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { PROGRESS } from '../../activities/video-progress.ts';
import { createApp, type App } from '../../api/app.ts';
import { beginProcessing } from '../../api/videos/service.ts';
import { sleep } from '../../lib/async.ts';
import { headObject, listObjects } from '../../lib/s3.ts';
import { searchAttributes } from '../../lib/temporal.ts';
import { pinnedSourcePath, uploadSourcePath, type VideoProgressMessage } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { transcodeStateQuery, type TranscodeInput, type transcodeWorkflow } from '../../workflows/transcode.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { heartbeatDetailsOf, searchAttributeValues, startInputOf } from '../support/history.ts';
import { freePort } from '../support/ports.ts';
import { call } from '../support/http.ts';
import { h264, mediaDir, probeStreams, segmentDurations, testPattern, tone } from '../support/media.ts';
import { pathOf, settledVideo, submitVideo, uploadFile } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// The VOD pipeline end to end: API → S3 upload → transcode workflow on real workers and
// FFmpeg → HLS in MinIO → playback through the API, on media generated here.

const t = useTestContext();
const media = mediaDir('videos');
afterAll(media.remove);
let app: App;
let owner: TestUser;
let other: TestUser;
let server: ServerType;

beforeAll(async () => {
  // Served over real HTTP too, so FFmpeg's HLS client can play the URLs the API hands out.
  const port = await freePort();
  const config = {
    ...t.ctx.config,
    publicUrls: { ...t.ctx.config.publicUrls, api: `http://127.0.0.1:${port}` },
    // Polling GET /videos/:id from one address would trip the general per-address limit.
    rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 },
  };
  app = createApp({ ...t.ctx.apiDeps(), config });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  owner = await newUser(app);
  other = await newUser(app);
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What a standard HLS client (FFmpeg's) finds behind a playback URL: one program per rendition. */
async function playerView(playbackUrl: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'program_stream=codec_type,width,height', '-of', 'json', playbackUrl]);
  const programs = JSON.parse(stdout).programs as { streams: { codec_type: string; width?: number; height?: number }[] }[];
  return programs.map((p) => p.streams.map((s) => (s.codec_type === 'video' ? `${s.width}x${s.height}` : s.codec_type)).join('+'));
}

const run = promisify(execFile);
const aac = ['-c:a', 'aac', '-shortest'];
const get = (path: string, user?: TestUser) => call(app, 'GET', path, { headers: user?.auth ?? {} });

/** Progress messages from NATS for every video of this test file. */
function watchProgress() {
  const messages: VideoProgressMessage[] = [];
  const sub = t.ctx.nats.connection.subscribe(t.ctx.nats.subject('video.*.progress'), {
    callback: (_err, msg) => messages.push(JSON.parse(msg.string()) as VideoProgressMessage),
  });
  return { of: (id: string) => messages.filter((m) => m.videoId === id), stop: () => sub.unsubscribe() };
}

async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function activityAttempts(workflowId: string): Promise<number[]> {
  const history = await t.ctx.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : []));
}

// Real encodes on two cores, next to other test files: generous, and never a timing assertion.
describe('VOD upload → transcode → playback', { timeout: 240_000 }, () => {
  it('publishes a 1080p upload as aligned HLS renditions with thumbnails, reporting progress on the way', async () => {
    const source = await media.generate('landscape-1080.mp4', [...testPattern('1920x1080', 30, 5), ...tone(5), ...h264, ...aac]);
    const progress = watchProgress();
    const { id, settled } = await withWorkers(t.ctx, async () => {
      const id = await submitVideo(app, owner, source, { title: 'Landscape' });
      const settled = await settledVideo(app, owner, id);
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(id)).result();
      return { id, settled };
    });
    progress.stop();
    const { video } = settled;
    expect(settled.seen).toEqual(['processing', 'ready']);
    expect(video).toMatchObject({ status: 'ready', progress: 100, failureReason: null, width: 1920, height: 1080, transcodeAttempts: 1 });
    expect(video.durationSeconds).toBeCloseTo(5, 0);
    expect(video.renditions.map((r: { name: string; width: number; height: number }) => `${r.name} ${r.width}x${r.height}`)).toEqual([
      '1080p 1920x1080', '720p 1280x720', '480p 854x480', '360p 640x360',
    ]);

    // Public: the master playlist needs no token; variants resolve relative to it.
    expect(video.playbackUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/v1/videos/${id}/hls/master\\.m3u8$`));
    expect(await playerView(video.playbackUrl)).toEqual(['1920x1080+audio', '1280x720+audio', '854x480+audio', '640x360+audio']);
    const master = await get(pathOf(video.playbackUrl));
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    // Players on any site may fetch it (hls.js) and embed it (<video src>, a no-cors request).
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    expect(master.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const variants = master.text.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    expect(variants.map((v) => /RESOLUTION=(\d+x\d+)/.exec(v)?.[1])).toEqual(['1920x1080', '1280x720', '854x480', '640x360']);
    for (const v of variants) expect(v).toMatch(/BANDWIDTH=\d+.*CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/);

    const durations: string[][] = [];
    for (const r of video.renditions) {
      const playlist = await get(pathOf(new URL(`${r.name}/index.m3u8`, video.playbackUrl).toString()));
      expect(playlist.status).toBe(200);
      expect(playlist.text).toContain('#EXT-X-ENDLIST');
      durations.push(segmentDurations(playlist.text).map((d) => d.toFixed(2)));
      const firstSegment = playlist.text.split('\n').find((l) => l.startsWith('http'))!;
      expect(firstSegment).toContain('X-Amz-Signature');
      const file = media.path(`${id}-${r.name}.ts`);
      writeFileSync(file, await fetchBytes(firstSegment));
      const streams = await probeStreams(file);
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: r.width, height: r.height });
      expect(streams.some((s) => s.codec_type === 'audio')).toBe(true);
    }
    // Every rendition cuts at the same instants (keyframes aligned to 4 s segments).
    expect(durations[0]!.slice(0, 1)).toEqual(['4.00']);
    for (const d of durations) expect(d).toEqual(durations[0]);

    expect((await fetchBytes(video.thumbnailUrl)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const vtt = await get(pathOf(video.storyboardUrl));
    expect(vtt.status).toBe(200);
    expect(vtt.text.startsWith('WEBVTT')).toBe(true);
    const tile = /^(http\S+)#xywh=0,0,160,90$/m.exec(vtt.text);
    expect((await fetchBytes(tile![1]!)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    const messages = progress.of(id);
    expect(messages.some((m) => m.status === 'processing' && m.percent > 0 && m.percent < 100)).toBe(true);
    expect(messages.at(-1)).toEqual({ videoId: id, percent: 100, status: 'ready' });

    const description = await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(id)).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(searchAttributes.Phase)).toBe('ready');
    expect(description.typedSearchAttributes.get(searchAttributes.VideoId)).toBe(id);
    expect(description.typedSearchAttributes.get(searchAttributes.CreatorId)).toBe(owner.id);
    expect((await get('/api/v1/users/me', owner)).json.data.role).toBe('creator');
  });

  it('answers complete again with 202 while processing, and its one transcode goes queued → probing → encoding → publishing → ready', async () => {
    const source = await media.generate('twice.mp4', [...testPattern('320x240', 25, 2), ...h264]);
    const { video } = await uploadFile(app, owner, source);
    const complete = () => call(app, 'POST', `/api/v1/videos/${video.id}/complete`, { headers: owner.auth });
    const first = await complete();
    expect(first.status).toBe(202);
    expect(first.json.data).toMatchObject({ status: 'processing', transcodeAttempts: 1 });
    const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(video.id));
    // No worker has picked it up yet: an operator sees it queued.
    const queued = await handle.describe();
    expect(queued.typedSearchAttributes.get(searchAttributes.Phase)).toBe('queued');
    // README: "safe to retry: a video already processing answers 202 again", and starts nothing new.
    const again = await complete();
    expect(again.status).toBe(202);
    expect(again.json.data).toMatchObject({ id: video.id, status: 'processing', transcodeAttempts: 1 });
    expect((await handle.describe()).runId).toBe(queued.runId);

    await withWorkers(t.ctx, async () => {
      await handle.result();
      // The `state` query names the phase too (answered from the closed run's history).
      expect(await handle.query(transcodeStateQuery)).toEqual({ phase: 'ready' });
    });
    expect((await get(`/api/v1/videos/${video.id}`, owner)).json.data).toMatchObject({ status: 'ready', transcodeAttempts: 1 });
    expect((await handle.describe()).runId).toBe(queued.runId);
    expect(await searchAttributeValues(handle, 'Phase')).toEqual(['queued', 'probing', 'encoding', 'publishing', 'ready']);
    // Past processing there is nothing to complete.
    const late = await complete();
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('conflict');
  });

  it('plans and produces the right ladder for portrait, odd-sized, 60 fps video-only and audio-only sources', async () => {
    const sources = {
      portrait: await media.generate('portrait.mp4', [...testPattern('720x1280', 30, 2), ...tone(2), ...h264, ...aac]),
      odd: await media.generate('odd.mkv', [...testPattern('641x361', 25, 2), '-c:v', 'ffv1']),
      sixty: await media.generate('sixty.mp4', [...testPattern('640x360', 60, 2), ...h264]),
      audio: await media.generate('audio.m4a', [...tone(3), '-c:a', 'aac']),
    };
    const videos = await withWorkers(t.ctx, async () => {
      const ids = Object.fromEntries(await Promise.all(Object.entries(sources).map(async ([k, f]) => [k, await submitVideo(app, owner, f)] as const)));
      const settled: Record<string, any> = {};
      for (const [k, id] of Object.entries(ids)) settled[k] = (await settledVideo(app, owner, id)).video;
      return settled;
    });
    const ladder = (v: any) => v.renditions.map((r: any) => `${r.name} ${r.width}x${r.height}@${r.fps}`);

    expect(videos.portrait).toMatchObject({ status: 'ready', width: 720, height: 1280 });
    expect(ladder(videos.portrait)).toEqual(['720p 720x1280@30', '480p 480x854@30', '360p 360x640@30']);
    expect(ladder(videos.odd)).toEqual(['360p 640x360@25']);
    expect(ladder(videos.sixty)).toEqual(['360p60 640x360@60']);
    const sixtyMaster = await get(pathOf(videos.sixty.playbackUrl));
    expect(sixtyMaster.text).not.toContain('mp4a');

    expect(videos.audio).toMatchObject({ status: 'ready', width: null, height: null, thumbnailUrl: null, storyboardUrl: null });
    expect(ladder(videos.audio)).toEqual(['audio nullxnull@null']);
    const audioMaster = await get(pathOf(videos.audio.playbackUrl));
    expect(audioMaster.text).toContain('CODECS="mp4a.40.2"');
    expect(audioMaster.text).not.toContain('RESOLUTION');
    const audioPlaylist = await get(pathOf(new URL('audio/index.m3u8', videos.audio.playbackUrl).toString()));
    expect(segmentDurations(audioPlaylist.text).reduce((a, b) => a + b, 0)).toBeCloseTo(3, 0);
  });

  it('fails broken uploads fast, once, with a reason a person understands', async () => {
    const random = media.path('random.mp4');
    // The same noise every run: fresh random bytes now and then pass a format's probe (ffprobe
    // once took a draw for "lrc" lyrics), which is another failure than the one tried here.
    writeFileSync(random, Buffer.concat(Array.from({ length: 2048 }, (_, i) => createHash('sha256').update(`not media ${i}`).digest())));
    // Cameras and most encoders write the index (moov) last, so an interrupted upload loses it.
    const whole = readFileSync(await media.generate('whole.mp4', [...testPattern('320x240', 25, 2), ...h264]));
    const truncated = media.path('truncated.mp4');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));

    const failed = await withWorkers(t.ctx, async () =>
      Promise.all(
        [random, truncated].map(async (file) => {
          const { video } = await settledVideo(app, owner, await submitVideo(app, owner, file), 30_000);
          await expect(t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(video.id)).result()).rejects.toThrow();
          return video;
        }),
      ),
    );
    for (const video of failed) {
      expect(video).toMatchObject({ status: 'failed', playbackUrl: null, transcodeAttempts: 1 });
      expect(video.failureReason).toMatch(/^(Not a readable audio or video file|The file has no duration)/);
      // Bad media is not retried: the probe ran once and the workflow failed for good.
      expect(await activityAttempts(workflowIds.transcode(video.id))).toEqual([1, 1, 1]); // pin, probe, markVideoFailed
      const description = await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(video.id)).describe();
      expect(description.status.name).toBe('FAILED');
      expect(description.typedSearchAttributes.get(searchAttributes.Phase)).toBe('failed');
    }
  });

  it('refuses to start a transcode for an empty, missing or oversized upload, losing nothing', async () => {
    const created = await call(app, 'POST', '/api/v1/videos', { body: { title: 'Nothing yet' }, headers: owner.auth });
    const id = created.json.data.video.id;
    const early = await call(app, 'POST', `/api/v1/videos/${id}/complete`, { headers: owner.auth });
    expect(early.status).toBe(409);
    expect(early.json.error.message).toContain('PUT the file');

    const empty = media.path('empty.mp4');
    writeFileSync(empty, '');
    const emptyUpload = await uploadFile(app, owner, empty);
    const refused = await call(app, 'POST', `/api/v1/videos/${emptyUpload.video.id}/complete`, { headers: owner.auth });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({ code: 'invalid_media', message: expect.stringContaining('empty') });
    expect((await get(`/api/v1/videos/${emptyUpload.video.id}`, owner)).json.data.status).toBe('uploading');

    const small = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, videos: { ...t.ctx.config.videos, maxUploadBytes: 2048 } } });
    const declared = await call(small, 'POST', '/api/v1/videos', { body: { title: 'Big', sizeBytes: 4096 }, headers: owner.auth });
    expect(declared.status).toBe(413);
    const big = media.path('big.bin');
    writeFileSync(big, randomBytes(4096));
    const bigUpload = await uploadFile(small, owner, big);
    const tooBig = await call(small, 'POST', `/api/v1/videos/${bigUpload.video.id}/complete`, { headers: owner.auth });
    expect(tooBig.status).toBe(413);
    expect(await headObject(t.ctx.storage, uploadSourcePath(bigUpload.video.id))).toBeNull();

    const again = await call(app, 'POST', '/api/v1/videos', { body: { title: 'Retried create' }, headers: { ...owner.auth, 'idempotency-key': 'k-1' } });
    const repeat = await call(app, 'POST', '/api/v1/videos', { body: { title: 'Retried create' }, headers: { ...owner.auth, 'idempotency-key': 'k-1' } });
    expect([again.status, repeat.status]).toEqual([201, 200]);
    expect(repeat.json.data.video.id).toBe(again.json.data.video.id);

    const invalid = await call(app, 'POST', '/api/v1/videos', { body: { title: '', visibility: 'secret', extra: 1 }, headers: owner.auth });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['json', 'title', 'visibility']); // 'json': the unknown key
    expect((await call(app, 'POST', '/api/v1/videos', { body: { title: 'x' } })).status).toBe(401);
  });

  it('retries a failed transcode to ready, only for its owner', async () => {
    const source = await media.generate('retry.mp4', [...testPattern('320x240', 25, 2), ...tone(2), ...h264, ...aac]);
    const id = await withWorkers(
      t.ctx,
      async () => {
        const id = await submitVideo(app, owner, source);
        const { video } = await settledVideo(app, owner, id);
        expect(video.status).toBe('failed');
        // The internal error stays in the workflow history; the owner reads no raw error text.
        expect(video.failureReason).toBe('Transcoding failed on our side; retry it later');
        return id;
      },
      { wrapMedia: () => ({ encodeHlsRenditions: async () => { throw ApplicationFailure.nonRetryable('the encoder lost its disk'); } }) },
    );
    expect((await call(app, 'POST', `/api/v1/videos/${id}/retry`, { headers: other.auth })).status).toBe(404);
    const retried = await call(app, 'POST', `/api/v1/videos/${id}/retry`, { headers: owner.auth });
    expect(retried.status).toBe(202);
    expect(retried.json.data).toMatchObject({ status: 'processing', progress: 0, failureReason: null, transcodeAttempts: 2 });
    const { video } = await withWorkers(t.ctx, () => settledVideo(app, owner, id));
    expect(video).toMatchObject({ status: 'ready', transcodeAttempts: 2 });
    expect((await call(app, 'POST', `/api/v1/videos/${id}/retry`, { headers: owner.auth })).status).toBe(409);
  });

  it('shows an encode under way (state query, Phase, heartbeat percentage); cancelling it keeps the source and its owner retries it', async () => {
    // 30 s of 720p: long enough to watch the encode climb and still stop it halfway.
    const source = await media.generate('thirty.mp4', [...testPattern('1280x720', 30, 30), ...tone(30), ...h264, ...aac]);
    const { video } = await uploadFile(app, owner, source);
    // Started as `complete` starts it, but with a heartbeat timeout of seconds: the SDK sends
    // heartbeat details at most every 80% of it (48 s with the production minute).
    await beginProcessing(t.ctx.db, video.id, 'uploading');
    const handle = await t.ctx.temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
      workflowId: workflowIds.transcode(video.id),
      taskQueue: t.ctx.config.temporal.taskQueue,
      args: [{ videoId: video.id, sourceKey: uploadSourcePath(video.id), mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, upload: { maxBytes: t.ctx.config.videos.maxUploadBytes }, heartbeatTimeout: '3 seconds' }],
      typedSearchAttributes: [
        { key: searchAttributes.VideoId, value: video.id },
        { key: searchAttributes.CreatorId, value: owner.id },
        { key: searchAttributes.Phase, value: 'queued' },
      ],
    });

    await withWorkers(t.ctx, async () => {
      // README: "the encode activity's heartbeat details show its percentage", climbing while FFmpeg runs.
      const percents = new Set<number>();
      await waitUntil(async () => {
        if ((await handle.describe()).status.name !== 'RUNNING') throw new Error(`the transcode ended having shown ${[...percents].join(', ') || 'no'} percentages`);
        const details = (await heartbeatDetailsOf(handle, 'encodeHlsRenditions')) as { step?: string; percent?: number } | undefined;
        if (details?.step === 'encoding') {
          expect(details).toEqual({ step: 'encoding', percent: expect.any(Number) });
          percents.add(details.percent!);
        }
        return [...percents].filter((p) => p > 0 && p < 100).length >= 2;
      }, 'two encoding percentages in the heartbeat details', 120_000);
      expect(await handle.query(transcodeStateQuery)).toEqual({ phase: 'encoding' });
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.Phase)).toBe('encoding');

      await handle.cancel(); // what Cancel in the Temporal UI does
      await expect(handle.result()).rejects.toThrow(/cancel/i);
    });
    // README: "marks the video failed and keeps the source, so its owner can retry".
    const cancelled = (await get(`/api/v1/videos/${video.id}`, owner)).json.data;
    expect(cancelled).toMatchObject({ status: 'failed', failureReason: 'Transcoding was cancelled; retry it to publish the video', playbackUrl: null });
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.Phase)).toBe('cancelled');
    expect(await headObject(t.ctx.storage, pinnedSourcePath(video.id))).not.toBeNull();
    expect(await listObjects(t.ctx.storage, `videos/${video.id}/`)).toEqual([]);

    const retried = await call(app, 'POST', `/api/v1/videos/${video.id}/retry`, { headers: owner.auth });
    expect(retried.status).toBe(202);
    const { video: ready } = await withWorkers(t.ctx, () => settledVideo(app, owner, video.id));
    expect(ready).toMatchObject({ status: 'ready', transcodeAttempts: 2, width: 1280, height: 720 });
    // The retry encoded the source the cancelled run kept.
    const retryRun = t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(video.id));
    expect(await startInputOf<TranscodeInput>(retryRun)).toMatchObject({ sourceKey: pinnedSourcePath(video.id) });
  });

  it('signs playback of unlisted and private videos and hides private ones from others', async () => {
    const source = await media.generate('small.mp4', [...testPattern('320x240', 25, 2), ...h264]);
    const [unlisted, hidden] = await withWorkers(t.ctx, async () => {
      const ids = [await submitVideo(app, owner, source, { visibility: 'unlisted' }), await submitVideo(app, owner, source, { visibility: 'private' })];
      return Promise.all(ids.map(async (id) => (await settledVideo(app, owner, id)).video));
    });

    const anonymous = await get(`/api/v1/videos/${unlisted.id}`);
    expect(anonymous.status).toBe(200);
    const signedUrl = anonymous.json.data.playbackUrl as string;
    expect(signedUrl).toMatch(/\/hls\/master\.m3u8\?token=\d+\.[\w-]{43}$/);
    expect(await playerView(signedUrl)).toEqual(['320x240']);
    const master = await get(pathOf(signedUrl));
    expect(master.status).toBe(200);
    expect(master.text).toMatch(/^240p\/index\.m3u8\?token=/m);
    expect((await get(pathOf(new URL(master.text.split('\n').find((l) => l.startsWith('240p'))!, signedUrl).toString()))).status).toBe(200);
    const unsigned = await get(`/api/v1/videos/${unlisted.id}/hls/master.m3u8`);
    expect(unsigned.status).toBe(403);
    const token = new URL(signedUrl).searchParams.get('token')!;
    const [expires, sig] = token.split('.');
    expect((await get(`/api/v1/videos/${unlisted.id}/hls/master.m3u8?token=${Number(expires) + 60}.${sig}`)).status).toBe(403);
    expect((await get(`/api/v1/videos/${hidden.id}/hls/master.m3u8?token=${token}`)).status).toBe(404);

    expect((await get(`/api/v1/videos/${hidden.id}`, other)).status).toBe(404);
    expect((await get(`/api/v1/videos/${hidden.id}`)).status).toBe(404);
    expect((await get(`/api/v1/videos/${hidden.id}/hls/master.m3u8`)).status).toBe(404);
    const own = await get(`/api/v1/videos/${hidden.id}`, owner);
    expect((await get(pathOf(own.json.data.playbackUrl))).status).toBe(200);
    const admin = await newUser(app);
    await setRole(t.ctx.db, admin.id, 'admin');
    expect((await get(`/api/v1/videos/${hidden.id}`, admin)).status).toBe(200);

    expect((await call(app, 'DELETE', `/api/v1/videos/${unlisted.id}`, { headers: other.auth })).status).toBe(403);
    const removed = await withWorkers(t.ctx, async () => {
      expect((await call(app, 'DELETE', `/api/v1/videos/${unlisted.id}`, { headers: owner.auth })).status).toBe(202);
      return t.ctx.temporal.client.workflow.getHandle(workflowIds.videoRemoval(unlisted.id)).result();
    });
    expect(removed.objectsDeleted).toBeGreaterThan(3);
    expect(await listObjects(t.ctx.storage, `videos/${unlisted.id}/`)).toEqual([]);
    expect(await headObject(t.ctx.storage, uploadSourcePath(unlisted.id))).toBeNull();
    expect(await headObject(t.ctx.storage, pinnedSourcePath(unlisted.id))).toBeNull();
    expect((await get(`/api/v1/videos/${unlisted.id}`, owner)).status).toBe(404);
  });

  it('deleting a video mid-transcode cancels the encode and removes every object', async () => {
    const source = await media.generate('long.mp4', [...testPattern('1280x720', 30, 20), ...tone(20), ...h264, ...aac]);
    const progress = watchProgress();
    const id = await withWorkers(t.ctx, async () => {
      const id = await submitVideo(app, owner, source);
      for (let i = 0; i < 2400 && !progress.of(id).some((m) => m.percent > 0); i++) await sleep(50);
      expect(progress.of(id).some((m) => m.percent > 0 && m.percent < PROGRESS.encoded)).toBe(true);
      expect((await call(app, 'DELETE', `/api/v1/videos/${id}`, { headers: owner.auth })).status).toBe(202);
      expect((await get(`/api/v1/videos/${id}`, owner)).status).toBe(404);
      const transcode = t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(id));
      await expect(transcode.result()).rejects.toThrow(/cancel/i);
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.videoRemoval(id)).result();
      return id;
    });
    progress.stop();
    // The encoder waited for its PUTs in flight before it ended, so nothing lands after the clean-up.
    expect(await listObjects(t.ctx.storage, `videos/${id}/`)).toEqual([]);
    expect(await listObjects(t.ctx.storage, `uploads/${id}/`)).toEqual([]);
    expect(await listObjects(t.ctx.storage, `sources/${id}/`)).toEqual([]);
    const row = await t.ctx.db.selectFrom('videos').select(['deleted_at', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.status).not.toBe('ready');
  });
});
