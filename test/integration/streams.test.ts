import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import type { StreamStatusMessage } from '../../lib/streams.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { streamWorkflow } from '../../workflows/stream.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { createStream as createStreamAs, waitForStatus as waitForStreamStatus } from '../support/live.ts';
import { publishTestPattern, startNginx, type TestNginx } from '../support/nginx.ts';
import { freePort } from '../support/ports.ts';
import { settledVideo } from '../support/videos.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Live streams end to end: a real nginx-rtmp calling the real API, FFmpeg publishing a
// generated test pattern, the stream workflow on real workers, the recording becoming a VOD.

const run = promisify(execFile);
const t = useTestContext();
let app: App;
let server: ServerType;
let nginx: TestNginx;
let creator: TestUser;
let fan: TestUser;
const statuses: StreamStatusMessage[] = [];

beforeAll(async () => {
  const port = await freePort();
  nginx = await startNginx(`http://127.0.0.1:${port}`, t.ctx.config.internalSecret);
  // Workers read the control URL and the recordings directory from the context's config.
  t.ctx.config.rtmpControlUrl = nginx.controlUrl;
  t.ctx.config.rtmpRecordingsDir = nginx.recordingsDir;
  const config = {
    ...t.ctx.config,
    rtmpRelayUrl: nginx.relayUrl,
    publicUrls: { ...t.ctx.config.publicUrls, api: `http://127.0.0.1:${port}`, hls: nginx.hlsUrl, rtmp: nginx.rtmpUrl },
    streams: { ...t.ctx.config.streams, reminderLeadSeconds: 2, scheduledGraceSeconds: 2 },
    rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 },
  };
  app = createApp({ ...t.ctx.apiDeps(), config });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  creator = await newUser(app);
  fan = await newUser(app);
  await call(app, 'POST', `/api/v1/users/${creator.id}/follow`, { headers: fan.auth });
  t.ctx.nats.connection.subscribe(t.ctx.nats.subject('stream.*.status'), {
    callback: (_err, msg) => statuses.push(JSON.parse(msg.string()) as StreamStatusMessage),
  });
});
afterAll(async () => {
  await nginx?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const createStream = (body: Record<string, unknown> = {}) => createStreamAs(app, creator, body);
const waitForStatus = (id: string, wanted: string, timeoutMs?: number) => waitForStreamStatus(app, id, wanted, timeoutMs);

/** Stops an encoder the way OBS does when its network drops: the connection just goes. */
async function stop(encoder: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') {
  if (encoder.exitCode !== null) return;
  encoder.kill(signal);
  await once(encoder, 'exit');
}

async function notificationsOf(userId: string, type: string) {
  return t.ctx.db.selectFrom('notifications').select(['entity_id', 'event_id']).where('recipient_id', '=', userId).where('type', '=', type as never).execute();
}

describe('live streams through nginx-rtmp', { timeout: 300_000 }, () => {
  it('goes live, survives a reconnect as one broadcast, ends by the owner, and becomes a VOD', async () => {
    const stream = await createStream({ reconnectWindowSeconds: 60 });
    expect(stream).toMatchObject({ status: 'idle', ingestUrl: nginx.rtmpUrl });
    expect(stream.streamKey).toMatch(/^live_[\w-]{32}$/);
    const stored = await t.ctx.db.selectFrom('streams').select(['stream_key_hash', 'stream_key_prefix']).where('id', '=', stream.id).executeTakeFirstOrThrow();
    expect(stored.stream_key_hash).not.toContain(stream.streamKey);
    expect(stream.streamKey.startsWith(stored.stream_key_prefix)).toBe(true);

    await withWorkers(t.ctx, async () => {
      const first = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const live = await waitForStatus(stream.id, 'live');
      expect(live.playbackUrl).toBe(`${nginx.hlsUrl}/${stream.id}.m3u8`);
      expect(live.playbackUrl).not.toContain(stream.streamKey);

      // A second encoder with the same key and an unknown key are both refused by nginx.
      const second = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const unknown = publishTestPattern(nginx.rtmpUrl, 'live_not-a-real-key');
      const [[secondCode], [unknownCode]] = await Promise.all([once(second, 'exit'), once(unknown, 'exit')]);
      expect(secondCode).not.toBe(0);
      expect(unknownCode).not.toBe(0);

      // The live HLS under the stream id plays in a standard client.
      for (let i = 0; i < 100 && !(await fetch(live.playbackUrl).then((r) => r.ok)); i++) await sleep(200);
      const playlist = await (await fetch(live.playbackUrl)).text();
      expect(playlist).toContain('#EXTM3U');
      expect(playlist).not.toContain(stream.streamKey);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', live.playbackUrl]);
      expect(JSON.parse(stdout).streams.map((x: { codec_type: string; width?: number }) => `${x.codec_type}${x.width ?? ''}`).sort()).toEqual(['audio', 'video640']);

      // Listed first while live; unlisted and ended streams are not on the public list.
      const listed = await call(app, 'GET', '/api/v1/streams?limit=1');
      expect(listed.json.data[0]).toMatchObject({ id: stream.id, status: 'live', playbackUrl: live.playbackUrl });
      expect(listed.json.data[0].streamKeyPrefix).toBeUndefined();
      const liveOnly = await call(app, 'GET', '/api/v1/streams?status=live');
      expect(liveOnly.json.data.map((x: { id: string }) => x.id)).toEqual([stream.id]);

      await sleep(2500); // a few seconds of recording before the drop
      await stop(first);
      await waitForStatus(stream.id, 'reconnecting');
      const again = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      await sleep(2500);

      const ended = await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      expect(ended.status).toBe(202);
      const [code] = await once(again, 'exit'); // nginx cut the encoder off
      expect(code).not.toBe(0);
      await waitForStatus(stream.id, 'ended');

      const result = await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
      expect(result.sessions).toBe(2);
      expect(result.recordings).toHaveLength(2);
      expect(result.vodVideoId).toBeTruthy();
      const { video } = await settledVideo(app, creator, result.vodVideoId!);
      expect(video).toMatchObject({ status: 'ready', source: 'recording' });
      expect(video.durationSeconds).toBeGreaterThan(3);
      expect((await call(app, 'GET', `/api/v1/streams/${stream.id}`)).json.data).toMatchObject({ status: 'ended', vodVideoId: video.id, playbackUrl: null });
      // The VOD's fan-out runs after the stream workflow returns.
      for (let i = 0; i < 100 && !(await notificationsOf(fan.id, 'video_published')).length; i++) await sleep(100);
    });

    // One broadcast: one "is live" notification despite the reconnect, and one for the VOD.
    expect((await notificationsOf(fan.id, 'stream_live')).filter((n) => n.entity_id === stream.id)).toHaveLength(1);
    expect(await notificationsOf(fan.id, 'video_published')).toHaveLength(1);
    expect(statuses.filter((s) => s.streamId === stream.id).map((s) => s.status)).toEqual(['live', 'reconnecting', 'live', 'ended']);
    const sessions = await t.ctx.db.selectFrom('stream_sessions').select(['ended_at', 'end_reason']).where('stream_id', '=', stream.id).execute();
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => s.ended_at !== null)).toBe(true);
  });

  it('ends when the reconnect window runs out, and an unlisted broadcast makes an unlisted VOD', async () => {
    const stream = await createStream({ reconnectWindowSeconds: 2, visibility: 'unlisted' });
    await withWorkers(t.ctx, async () => {
      const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      await sleep(2500);
      await stop(encoder);
      await waitForStatus(stream.id, 'reconnecting');
      await waitForStatus(stream.id, 'ended');
      const result = await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 1 });
      expect(result.recordings).toHaveLength(1);
      const { video } = await settledVideo(app, creator, result.vodVideoId!);
      expect(video).toMatchObject({ status: 'ready', visibility: 'unlisted' });
      await sleep(1000); // time for a fan-out, had one been started
      expect((await notificationsOf(fan.id, 'video_published')).map((n) => n.entity_id)).not.toContain(video.id);
    });
    // An ended stream's key no longer publishes.
    const late = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
    const [code] = await once(late, 'exit');
    expect(code).not.toBe(0);
  });

  it('ends a broadcast at its maximum duration and cuts the encoder off', async () => {
    const stream = await createStream();
    const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id));
    // The API starts every stream with the 12-hour cap; restart this one with a short cap.
    await handle.terminate('restarted with a short maximum duration');
    await t.ctx.temporal.client.workflow.start<typeof streamWorkflow>('streamWorkflow', {
      workflowId: workflowIds.stream(stream.id),
      taskQueue: t.ctx.config.temporal.taskQueue,
      args: [{ streamId: stream.id, ownerId: creator.id, title: 'Capped', mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, reconnectWindowSeconds: 60, maxBroadcastSeconds: 3 }],
    });
    await withWorkers(t.ctx, async () => {
      const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      const [code] = await once(encoder, 'exit');
      expect(code).not.toBe(0);
      expect((await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result()).status).toBe('ended');
    });
  });

  it('keeps the broadcast when the worker dies while live', async () => {
    const stream = await createStream({ reconnectWindowSeconds: 60 });
    const doomed = await spawnWorkerProcess(t.ctx, 'all');
    const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
    await waitForStatus(stream.id, 'live');
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    // The drop happens while no worker runs; the signal waits in the workflow's history.
    await sleep(1500);
    await stop(encoder);
    await withWorkers(t.ctx, async () => {
      await waitForStatus(stream.id, 'reconnecting');
      const again = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await once(again, 'exit');
      const result = await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 2 });
      // The fan-out may have been started only after the new worker took over; let it finish.
      const delivered = async () => (await notificationsOf(fan.id, 'stream_live')).some((n) => n.entity_id === stream.id);
      for (let i = 0; i < 100 && !(await delivered()); i++) await sleep(100);
    });
    expect((await notificationsOf(fan.id, 'stream_live')).filter((n) => n.entity_id === stream.id)).toHaveLength(1);
  });

  it('lets the creator back in when nginx lost an encoder without telling (a stale session)', async () => {
    const stream = await createStream();
    // What an nginx restart leaves behind: a session row whose encoder nginx no longer has.
    await t.ctx.db.insertInto('stream_sessions').values({ stream_id: stream.id, client_id: '987654' }).execute();
    await withWorkers(t.ctx, async () => {
      const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      // A real second encoder is still refused: nginx does have the first one.
      const second = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const [secondCode] = await once(second, 'exit');
      expect(secondCode).not.toBe(0);
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await once(encoder, 'exit');
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
    });
    const stale = await t.ctx.db.selectFrom('stream_sessions').select('end_reason').where('stream_id', '=', stream.id).where('client_id', '=', '987654').executeTakeFirstOrThrow();
    expect(stale.end_reason).toMatch(/^stale/);
  });

  it('rotates keys only while off air, and the old key stops working', async () => {
    const stream = await createStream();
    const rotated = await call(app, 'POST', `/api/v1/streams/${stream.id}/key/rotate`, { headers: creator.auth });
    expect(rotated.status).toBe(200);
    const newKey = rotated.json.data.streamKey as string;
    expect(newKey).not.toBe(stream.streamKey);
    expect((await call(app, 'POST', `/api/v1/streams/${stream.id}/key/rotate`, { headers: fan.auth })).status).toBe(403);
    await withWorkers(t.ctx, async () => {
      const old = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const [oldCode] = await once(old, 'exit');
      expect(oldCode).not.toBe(0);
      const encoder = publishTestPattern(nginx.rtmpUrl, newKey);
      await waitForStatus(stream.id, 'live');
      expect((await call(app, 'POST', `/api/v1/streams/${stream.id}/key/rotate`, { headers: creator.auth })).status).toBe(409);
      const renamed = await call(app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: 'Renamed live' }, headers: creator.auth });
      expect(renamed.status).toBe(200);
      expect(renamed.json.data.title).toBe('Renamed live');
      expect((await call(app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: '' }, headers: creator.auth })).status).toBe(400);
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await once(encoder, 'exit');
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
    });
  });

  it('reminds followers before a scheduled stream and cancels it if it never starts', async () => {
    const stream = await createStream({ scheduledAt: new Date(Date.now() + 4000).toISOString() });
    expect(stream.status).toBe('scheduled');
    await withWorkers(t.ctx, async () => {
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
      for (let i = 0; i < 100 && !(await notificationsOf(fan.id, 'stream_scheduled')).length; i++) await sleep(100);
    });
    expect((await call(app, 'GET', `/api/v1/streams/${stream.id}`)).json.data.status).toBe('cancelled');
    expect((await notificationsOf(fan.id, 'stream_scheduled')).map((n) => n.entity_id)).toContain(stream.id);
  });
});
