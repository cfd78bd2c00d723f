import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { createStream, dropEncoder, startLiveStack, takeLiveThumbnails, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { pathOf } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Live thumbnails (README "Live thumbnails"): the live-thumbnails Schedule's workflow takes a
// still from the newest segment of each stream's live HLS, written by the real nginx-rtmp
// from a real FFmpeg publish; the API shows it through a redirect to S3.

const run = promisify(execFile);
const t = useTestContext();
let live: LiveStack;
let creator: TestUser;
let viewer: TestUser;

beforeAll(async () => {
  live = await startLiveStack(t.ctx);
  creator = await newUser(live.app);
  await setRole(t.ctx.db, creator.id, 'creator');
  viewer = await newUser(live.app);
});
afterAll(() => live?.close());

const takeThumbnails = () => takeLiveThumbnails(t.ctx);
const thumbnailUrlAs = async (streamId: string, user?: TestUser): Promise<string | null> =>
  (await call(live.app, 'GET', `/api/v1/streams/${streamId}`, { headers: user?.auth ?? {} })).json.data.thumbnailUrl;

/** Follows the API's redirect to S3 and returns the image's bytes and size as FFmpeg reads them. */
async function image(url: string, user?: TestUser) {
  const redirect = await call(live.app, 'GET', pathOf(url), { headers: user?.auth ?? {} });
  expect(redirect.status).toBe(302);
  const res = await fetch(redirect.headers.get('location')!);
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', redirect.headers.get('location')!]);
  return { bytes, probe: stdout.trim() };
}

describe('live thumbnails', () => {
  it('are taken from the live HLS of each stream on air, replaced at each run, gated like playback, and kept after the end', async () => {
    await withWorkers(t.ctx, async () => {
      const onAir = await createStream(live.app, creator);
      const idle = await createStream(live.app, creator);
      let encoder: ChildProcess | undefined;
      try {
        encoder = publishTestPattern(live.nginx.rtmpUrl, onAir.streamKey);
        await waitForStatus(live.app, onAir.id, 'live');
        expect(await thumbnailUrlAs(onAir.id)).toBeNull();
        // Two segments: on a loaded machine the relay into the broadcast application can join the
        // encoder mid-GOP, and the first fragment then holds no keyframe FFmpeg could decode.
        // Fragments are cut at keyframes, so the second always starts with one.
        await waitUntil(async () => {
          const res = await fetch(`${live.nginx.hlsUrl}/${onAir.id}.m3u8`);
          return res.status === 200 && ((await res.text()).match(/\.ts$/gm) ?? []).length >= 2;
        }, 'two live segments', 60_000);

        expect(await takeThumbnails()).toEqual({ live: 1, captured: 1, skipped: 0, failed: 0, errors: [] });
        const first = (await thumbnailUrlAs(onAir.id))!;
        expect(first).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/api/v1/streams/${onAir.id}/thumbnail\\.jpg\\?v=\\d+$`));
        const shot = await image(first);
        expect(shot.bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
        expect(shot.probe).toBe('mjpeg,640,360');
        // Nothing to take from a stream nobody publishes to.
        expect(await thumbnailUrlAs(idle.id)).toBeNull();
        expect((await call(live.app, 'GET', `/api/v1/streams/${idle.id}/thumbnail.jpg`)).status).toBe(404);

        // The next run replaces it under the same key; the URL's version moves on.
        expect(await takeThumbnails()).toMatchObject({ live: 1, captured: 1, errors: [] });
        const second = (await thumbnailUrlAs(onAir.id))!;
        expect(second).not.toBe(first);
        const keys = await t.ctx.db.selectFrom('streams').select('thumbnail_key').where('id', '=', onAir.id).executeTakeFirstOrThrow();
        expect(keys.thumbnail_key).toBe(`streams/${onAir.id}/thumbnail.jpg`);

        // Age-restricted: anonymous viewers get no URL and the route refuses them; a signed-in
        // viewer's URL carries the playback token an image request needs.
        await sql`update streams set age_restricted_at = now() where id = ${onAir.id}`.execute(t.ctx.db);
        expect(await thumbnailUrlAs(onAir.id)).toBeNull();
        const refused = await call(live.app, 'GET', pathOf(second));
        expect(refused.status).toBe(403);
        expect(refused.json.error.details).toMatchObject({ reason: 'age_restricted' });
        const tokened = (await thumbnailUrlAs(onAir.id, viewer))!;
        expect(tokened).toMatch(new RegExp(`^${second.replace(/[.?]/g, '\\$&')}&token=\\d+\\.[\\w-]{43}$`));
        expect((await image(tokened)).probe).toBe('mjpeg,640,360');
        await sql`update streams set age_restricted_at = null where id = ${onAir.id}`.execute(t.ctx.db);

        await dropEncoder(encoder);
        encoder = undefined;
        await call(live.app, 'POST', `/api/v1/streams/${onAir.id}/end`, { headers: creator.auth });
        await waitForStatus(live.app, onAir.id, 'ended');
        expect(await takeThumbnails()).toEqual({ live: 0, captured: 0, skipped: 0, failed: 0, errors: [] });
        expect(await thumbnailUrlAs(onAir.id)).toBe(second);
      } finally {
        if (encoder) await dropEncoder(encoder);
      }
    });
  });

  it('count a segment FFmpeg cannot read as failed and say why in the run’s result, leaving the stream without one', async () => {
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    writeFileSync(path.join(live.nginx.hlsDir, `${streamId}.m3u8`), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\n${streamId}-0.ts\n`);
    writeFileSync(path.join(live.nginx.hlsDir, `${streamId}-0.ts`), 'not a transport stream');
    try {
      const result = await withWorkers(t.ctx, takeThumbnails);
      expect(result).toMatchObject({ live: 1, captured: 0, skipped: 0, failed: 1 });
      expect(result.errors).toEqual([expect.stringMatching(new RegExp(`^${streamId}: .*ffmpeg`, 'i'))]);
      expect(await thumbnailUrlAs(streamId)).toBeNull();
    } finally {
      await sql`update streams set status = 'ended' where id = ${streamId}`.execute(t.ctx.db);
    }
  });
});
