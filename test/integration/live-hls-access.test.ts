import type { ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaybackSigner } from '../../api/videos/playback.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { createStream, dropEncoder, startLiveStack, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Live HLS through the real nginx, which asks the real API about every file (auth_request):
// a stream plays for anyone until moderation age-restricts it; from then on only with the
// playback token signed-in viewers get, which the playlist hands on to its segments.

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

const status = async (url: string) => (await fetch(url)).status;
const playbackUrlAs = async (streamId: string, user?: TestUser): Promise<string | null> =>
  (await call(live.app, 'GET', `/api/v1/streams/${streamId}`, { headers: user?.auth ?? {} })).json.data.playbackUrl;
/** The segment lines of a playlist (the files nginx-rtmp wrote, as nginx served them). */
const segmentsOf = (playlist: string) => playlist.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
const restrict = (streamId: string, on: boolean) =>
  t.ctx.db
    .updateTable('streams')
    .set({ age_restricted_at: on ? sql<Date>`now()` : null })
    .where('id', '=', streamId)
    .execute();

describe('live HLS access', () => {
  it('serves a stream to anyone, then, once age-restricted, only with the signed-in viewers’ token, on the playlist and every segment', async () => {
    await withWorkers(t.ctx, async () => {
      const stream = await createStream(live.app, creator);
      let encoder: ChildProcess | undefined;
      try {
        encoder = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
        await waitForStatus(live.app, stream.id, 'live');
        const open = await playbackUrlAs(stream.id);
        expect(open).toBe(`${live.nginx.hlsUrl}/${stream.id}.m3u8`);
        const playlist = await waitUntil(async () => {
          const res = await fetch(open!);
          return res.status === 200 && segmentsOf(await res.text()).length > 0 && res;
        }, 'the first segments', 60_000);
        expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
        const segments = segmentsOf(await (await fetch(open!)).text());
        expect(segments[0]).toMatch(new RegExp(`^${stream.id}-\\d+\\.ts$`));
        expect(await status(`${live.nginx.hlsUrl}/${segments.at(-1)}`)).toBe(200);
        // What does not name a stream is refused, not looked up.
        expect(await status(`${live.nginx.hlsUrl}/index.m3u8`)).toBe(403);

        // Moderation age-restricts it: anonymous viewers lose the URL, and the files (once
        // nginx's cached answer of a few seconds runs out) refuse anyone without the token.
        await restrict(stream.id, true);
        expect(await playbackUrlAs(stream.id)).toBeNull();
        await waitUntil(async () => (await status(open!)) === 403, 'the playlist refused without a token', 20_000);
        expect(await status(`${live.nginx.hlsUrl}/${segments.at(-1)}`)).toBe(403);

        const signed = (await playbackUrlAs(stream.id, viewer))!;
        const token = new URL(signed).searchParams.get('token')!;
        expect(signed).toBe(`${open}?token=${token}`);
        // The same URL on the next read within the hour: a refetching page keeps its player.
        expect(await playbackUrlAs(stream.id, viewer)).toBe(signed);
        const res = await fetch(signed);
        expect(res.status).toBe(200);
        const tokened = segmentsOf(await res.text());
        expect(tokened.length).toBeGreaterThan(0);
        for (const line of tokened) expect(line).toMatch(new RegExp(`^${stream.id}-\\d+\\.ts\\?token=${token.replace('.', '\\.')}$`));
        const segment = tokened.at(-1)!;
        expect(await status(`${live.nginx.hlsUrl}/${segment}`)).toBe(200);
        expect(await status(`${live.nginx.hlsUrl}/${segment.split('?')[0]}`)).toBe(403);
        // Neither a forged token, nor one signed for another id, nor a video's for the same id opens it.
        const [expires] = token.split('.');
        const forged = `${expires}.${'A'.repeat(43)}`;
        const anotherId = createPlaybackSigner(t.ctx.config.auth.jwtSecret, 'live').sign(creator.id, new Date(Date.now() + 3_600_000));
        const videoToken = createPlaybackSigner(t.ctx.config.auth.jwtSecret).sign(stream.id, new Date(Date.now() + 3_600_000));
        for (const wrong of [forged, anotherId, videoToken]) expect(await status(`${open}?token=${wrong}`), wrong).toBe(403);

        // Lifted: anyone again.
        await restrict(stream.id, false);
        await waitUntil(async () => (await status(open!)) === 200, 'the playlist served without a token again', 20_000);
        expect(await playbackUrlAs(stream.id)).toBe(open);
      } finally {
        if (encoder) await dropEncoder(encoder);
      }
    });
  }, 180_000);
});
