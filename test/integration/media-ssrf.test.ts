import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { listObjects } from '../../lib/s3.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestContext, type TestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { h264, mediaDir, testPattern } from '../support/media.ts';
import { settledVideo, submitVideo } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';

// User media cannot make a media worker reach anything: uploads that point FFmpeg at a URL
// (a playlist, a concat list, an SDP session, an MP4 whose samples live elsewhere) fail as
// bad media before any demuxer opens them, and sources over a cost limit fail before any
// encode starts. Real API, MinIO, Temporal workers and FFmpeg.

const t = useTestContext();
const media = mediaDir('media-ssrf');
afterAll(media.remove);
const run = promisify(execFile);
let app: App;
let owner: TestUser;

/** An HTTP listener on the workers' own network, as nginx-rtmp's control port or a metadata service would be. */
const requests: string[] = [];
/** What the listener serves under /control/<name> (everything else is 404). */
const served: Record<string, string> = {};
let listener: Server;
let target: string;

beforeAll(async () => {
  app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 } } });
  owner = await newUser(app);
  listener = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const file = served[req.url?.replace(/^\/control\//, '') ?? ''];
    if (file) res.writeHead(200).end(readFileSync(file));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  target = `127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

type Box = { type: string; body: Buffer };

/** ISO BMFF boxes of a buffer (32-bit sizes, as FFmpeg writes small files). */
function boxes(buffer: Buffer): Box[] {
  const list: Box[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    const size = buffer.readUInt32BE(offset);
    list.push({ type: buffer.toString('latin1', offset + 4, offset + 8), body: buffer.subarray(offset + 8, offset + size) });
    offset += size;
  }
  return list;
}

const box = (type: string, body: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};

/**
 * A "reference movie": the MP4's data reference (moov/trak/mdia/minf/dinf/dref) names `url`
 * as where its samples are, and the file carries no samples (no mdat).
 */
function externalReferenceMp4(mp4: Buffer, url: string): Buffer {
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'dinf']);
  const rewrite = (buffer: Buffer): Buffer =>
    Buffer.concat(
      boxes(buffer)
        .filter((b) => b.type !== 'mdat')
        .map((b) => {
          if (containers.has(b.type)) return box(b.type, rewrite(b.body));
          if (b.type !== 'dref') return box(b.type, b.body);
          // version/flags 0, one entry: a 'url ' box with flags 0 (not self-contained) and its location.
          const entry = box('url ', Buffer.concat([Buffer.alloc(4), Buffer.from(`${url}\0`, 'latin1')]));
          return box('dref', Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), entry]));
        }),
    );
  return rewrite(mp4);
}

async function activityTypes(videoId: string): Promise<string[]> {
  const history = await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(videoId)).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    return scheduled ? [scheduled.activityType?.name ?? ''] : [];
  });
}

async function activityAttempts(videoId: string): Promise<number[]> {
  const history = await t.ctx.temporal.client.workflow.getHandle(workflowIds.transcode(videoId)).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : []));
}

const upload = '; upload the video itself as one file (MP4, MOV, MKV, WebM, AVI, FLV, MPEG-TS, Ogg, WMV, MP3, WAV or FLAC)';

// Real transcodes on two cores, next to other test files: generous, and never a timing assertion.
describe('user media cannot make the media workers fetch anything', { timeout: 240_000 }, () => {
  it('refuses a playlist, a concat list, an SDP session and an externally referenced MP4 without one request to their URLs', async () => {
    const files = {
      playlist: media.path('playlist.mp4'),
      concat: media.path('concat.mp4'),
      sdp: media.path('session.mp4'),
      reference: media.path('reference.mp4'),
    };
    writeFileSync(files.playlist, `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nhttp://${target}/playlist-segment.ts\n#EXT-X-ENDLIST\n`);
    writeFileSync(files.concat, `ffconcat version 1.0\nfile 'http://${target}/concat-part.mp4'\n`);
    const [host, port] = target.split(':');
    writeFileSync(files.sdp, `v=0\no=- 0 0 IN IP4 ${host}\ns=stream\nc=IN IP4 ${host}\nt=0 0\nm=video ${port} RTP/AVP 96\na=rtpmap:96 H264/90000\n`);
    const whole = readFileSync(await media.generate('whole.mp4', [...testPattern('320x240', 25, 2), ...h264]));
    writeFileSync(files.reference, externalReferenceMp4(whole, `http://${target}/reference-samples.mp4`));

    const videos = await withWorkers(t.ctx, async () => {
      const ids = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([name, file]) => [name, await submitVideo(app, owner, file)] as const)));
      const settled: Record<string, { id: string; status: string; failureReason: string; transcodeAttempts: number }> = {};
      for (const [name, id] of Object.entries(ids)) settled[name] = (await settledVideo(app, owner, id, 60_000)).video;
      return settled;
    });

    // Each failed before any demuxer ran: nothing reached the listener.
    expect(requests).toEqual([]);
    expect(Object.fromEntries(Object.entries(videos).map(([name, v]) => [name, [v.status, v.failureReason]]))).toEqual({
      playlist: ['failed', `Not an accepted video or audio file: this file is an HLS playlist, which is not accepted${upload}`],
      concat: ['failed', `Not an accepted video or audio file: this file is a list of other files (FFmpeg concat), which is not accepted${upload}`],
      sdp: ['failed', `Not an accepted video or audio file: this file is a network session description (SDP), which is not accepted${upload}`],
      reference: [
        'failed',
        'Not a readable audio or video file (its video stream cannot be decoded; the file may be damaged or keep its media in another file)',
      ],
    });
    for (const video of Object.values(videos)) {
      // Bad media, not a fault: pinned, probed once, marked failed; never encoded, never retried.
      expect(await activityTypes(video.id)).toEqual(['pinUploadedSource', 'probeVideoSource', 'markVideoFailed']);
      expect(await activityAttempts(video.id)).toEqual([1, 1, 1]);
      expect(await listObjects(t.ctx.storage, `videos/${video.id}/`)).toEqual([]);
    }

    // The same files read by FFmpeg from a URL, as the workers used to read sources, do reach the
    // listener: the test would see a request.
    Object.assign(served, files);
    await run('ffprobe', ['-v', 'quiet', `http://${target}/control/playlist`]).catch(() => {});
    await run('ffprobe', ['-v', 'quiet', '-safe', '0', `http://${target}/control/concat`]).catch(() => {});
    expect(requests).toEqual(['GET /control/playlist', 'GET /playlist-segment.ts', 'GET /control/concat', 'GET /concat-part.mp4']);
  });

  it('refuses sources over each cost limit before encoding, and encodes one exactly at every limit', async () => {
    // 320×240 at 25 fps for 2 s: 1,920,000 pixels per second.
    const source = await media.generate('limits.mp4', [...testPattern('320x240', 25, 2), ...h264]);
    const atLimit = { maxDurationSeconds: 2, maxWidth: 320, maxHeight: 240, maxFps: 25, maxPixelsPerSecond: 1_920_000 };
    const withLimits = (limits: Partial<typeof atLimit>) => ({ ...t.ctx, config: { ...t.ctx.config, media: { ...atLimit, ...limits } } }) as TestContext;
    const outcome = async (limits: Partial<typeof atLimit>) =>
      withWorkers(withLimits(limits), async () => {
        const { video } = await settledVideo(app, owner, await submitVideo(app, owner, source), 60_000);
        return { video, activities: await activityTypes(video.id) };
      });

    const refused = {
      duration: await outcome({ maxDurationSeconds: 1 }),
      resolution: await outcome({ maxHeight: 238 }),
      fps: await outcome({ maxFps: 24 }),
      pixelRate: await outcome({ maxPixelsPerSecond: 1_919_999 }),
    };
    expect(Object.fromEntries(Object.entries(refused).map(([limit, { video }]) => [limit, [video.status, video.failureReason]]))).toEqual({
      duration: ['failed', 'The file is 2 s long; videos may be at most 1 s'],
      resolution: ['failed', 'The video is 320×240; videos may be at most 320×238 (either orientation)'],
      fps: ['failed', 'The video runs at 25 frames per second; at most 24 are accepted'],
      pixelRate: ['failed', 'The video is 320×240 at 25 frames per second, 1,920,000 pixels per second; at most 1,919,999 are accepted'],
    });
    for (const { activities } of Object.values(refused)) expect(activities).toEqual(['pinUploadedSource', 'probeVideoSource', 'markVideoFailed']);

    const accepted = await outcome({});
    expect(accepted.video).toMatchObject({ status: 'ready', width: 320, height: 240, failureReason: null });
    expect(accepted.activities).toEqual(['pinUploadedSource', 'probeVideoSource', 'encodeHlsRenditions', 'publishVideo']);
  });
});
