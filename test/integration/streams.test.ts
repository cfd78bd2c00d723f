import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve, type ServerType } from '@hono/node-server';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import { headObject, presignGet } from '../../lib/s3.ts';
import { recordingPath, type StreamStatusMessage } from '../../lib/streams.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { streamStateQuery, type StreamInput, type StreamState, type streamWorkflow } from '../../workflows/stream.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { historySummary, startInputOf, timersOf } from '../support/history.ts';
import { call } from '../support/http.ts';
import { createStream as createStreamAs, dropEncoder, exitCode, ingestSnapshot, waitForStatus as waitForStreamStatus } from '../support/live.ts';
import { mediaSeconds } from '../support/media.ts';
import { publishTestPattern, startNginx, type TestNginx } from '../support/nginx.ts';
import { freePort } from '../support/ports.ts';
import { settledVideo } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
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
// Both waits are bounded and explain a failure with what nginx and the database saw: an
// unbounded wait on an encoder that already exited (or that nginx lost with a crashed worker)
// once hung tests for their whole 300 s and let later tests' access tokens expire.
const nginxSaw = async (streamId?: string) =>
  `${streamId ? `${await ingestSnapshot(t.ctx, nginx.controlUrl, streamId)}\n` : ''}nginx error.log ends:\n${nginx.errorLog()}`;
const waitForStatus = (id: string, wanted: string, timeoutMs?: number) =>
  waitForStreamStatus(app, id, wanted, timeoutMs).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await nginxSaw(id)}`);
  });
const exited = (encoder: ChildProcess, what: string, streamId?: string) => exitCode(encoder, what, () => nginxSaw(streamId));

async function notificationsOf(userId: string, type: string) {
  return t.ctx.db.selectFrom('notifications').select(['entity_id', 'event_id']).where('recipient_id', '=', userId).where('type', '=', type as never).execute();
}

const streamHandle = (streamId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(streamId));
const statusesOf = (streamId: string) => statuses.filter((s) => s.streamId === streamId).map((s) => s.status);

/** One of nginx-rtmp's hooks, posted the way nginx posts it: a form body, the secret in the query. */
async function rtmpHook(hook: 'publish' | 'publish-done', form: Record<string, string>) {
  const res = await app.request(`/internal/rtmp/${hook}?secret=${t.ctx.config.internalSecret}`, { method: 'POST', body: new URLSearchParams({ app: 'live', ...form }) });
  return { status: res.status, text: await res.text() };
}

describe('live streams through nginx-rtmp', { timeout: 300_000 }, () => {
  it('goes live, survives a reconnect as one broadcast, ends by the owner, and becomes a VOD of both sessions', async () => {
    const stream = await createStream(); // README: the reconnect window is 60 s unless the stream asks for another
    expect(stream).toMatchObject({ status: 'idle', ingestUrl: nginx.rtmpUrl, reconnectWindowSeconds: 60 });
    expect(stream.streamKey).toMatch(/^live_[\w-]{32}$/);
    const stored = await t.ctx.db.selectFrom('streams').select(['stream_key_hash', 'stream_key_prefix']).where('id', '=', stream.id).executeTakeFirstOrThrow();
    expect(stored.stream_key_hash).not.toContain(stream.streamKey);
    expect(stream.streamKey.startsWith(stored.stream_key_prefix)).toBe(true);
    const handle = streamHandle(stream.id);
    const stateWhen = (what: string, wanted: (s: StreamState) => boolean) =>
      waitUntil(async () => {
        const state = await handle.query(streamStateQuery);
        return wanted(state) && state;
      }, what);

    await withWorkers(t.ctx, async () => {
      // The idle deadline is a timer only if the workflow waits before the encoder comes: a
      // publish that lands before its first task (a loaded machine) leaves nothing to wait for.
      await waitUntil(async () => (await timersOf(handle)).length === 1, 'the idle deadline');
      const first = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const live = await waitForStatus(stream.id, 'live');
      expect(live.playbackUrl).toBe(`${nginx.hlsUrl}/${stream.id}.m3u8`);
      expect(live.playbackUrl).not.toContain(stream.streamKey);
      // The deadlines the workflow waited on, from its history: idle, the README's
      // STREAM_IDLE_CLOSE_DAYS (30) after creation; once live, "12 hours end it".
      const liveTimers = await waitUntil(async () => {
        const timers = await timersOf(handle);
        return timers.length >= 2 && timers;
      }, 'the broadcast deadline').catch(async (err: Error) => {
        throw new Error(`${err.message}; the workflow's history:\n${await historySummary(handle)}`);
      });
      expect(liveTimers).toEqual([30 * 86_400, 12 * 3600]);

      // A second encoder with the same key and an unknown key are both refused by nginx.
      const second = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      const unknown = publishTestPattern(nginx.rtmpUrl, 'live_not-a-real-key');
      const [secondCode, unknownCode] = await Promise.all([exited(second, 'a second encoder', stream.id), exited(unknown, 'an unknown key')]);
      expect(secondCode).not.toBe(0);
      expect(unknownCode).not.toBe(0);

      // The live HLS under the stream id plays in a standard client.
      for (let i = 0; i < 100 && !(await fetch(live.playbackUrl).then((r) => r.ok)); i++) await sleep(200);
      const playlist = await (await fetch(live.playbackUrl)).text();
      expect(playlist).toContain('#EXTM3U');
      expect(playlist).not.toContain(stream.streamKey);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', live.playbackUrl]);
      expect(JSON.parse(stdout).streams.map((x: { codec_type: string; width?: number }) => `${x.codec_type}${x.width ?? ''}`).sort()).toEqual(['audio', 'video640']);

      await sleep(2500); // a few seconds of recording before the drop
      await dropEncoder(first);
      await waitForStatus(stream.id, 'reconnecting');
      // The `state` query: one session so far, no encoder, its recording reported once nginx closed it.
      const afterDrop = await stateWhen('the first recording', (s) => s.recordings.length === 1);
      expect(afterDrop).toEqual({ status: 'reconnecting', publishingSession: null, sessions: 1, recordings: [expect.stringMatching(new RegExp(`^${stream.id}-\\d+\\.flv$`))], vodVideoId: null });
      // README: "default 60 s". The reconnect window is the timer started after the drop.
      const reconnectTimer = await waitUntil(async () => (await timersOf(handle)).slice(liveTimers.length), 'the reconnect window timer');
      expect(reconnectTimer).toEqual([60]);
      const firstSeconds = await mediaSeconds(path.join(nginx.recordingsDir, afterDrop.recordings[0]!));

      // The encoder comes back inside the window, publishes six seconds and stops, as OBS's Stop does.
      const again = publishTestPattern(nginx.rtmpUrl, stream.streamKey, 6);
      const afterSecond = await stateWhen('the second recording', (s) => s.recordings.length === 2 && s.status === 'reconnecting');
      expect(afterSecond).toMatchObject({ sessions: 2, publishingSession: null, vodVideoId: null });
      expect(await exitCode(again, 'the six-second encoder')).toBe(0);
      const secondSeconds = await mediaSeconds(path.join(nginx.recordingsDir, afterSecond.recordings[1]!));
      // Each session recorded seconds of media, so a VOD of one alone falls well short of the sum.
      expect(Math.min(firstSeconds, secondSeconds)).toBeGreaterThan(2);

      const ended = await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      expect(ended.status).toBe(202);
      await waitForStatus(stream.id, 'ended');

      const result = await handle.result();
      expect(result).toMatchObject({ status: 'ended', sessions: 2, recordings: afterSecond.recordings });
      expect(result.vodVideoId).toBeTruthy();
      // README: the recordings of all its sessions are joined and stored as recordings/<id>/broadcast.flv.
      expect(await headObject(t.ctx.storage, recordingPath(stream.id))).not.toBeNull();
      const joinedSeconds = await mediaSeconds(await presignGet(t.ctx.storage, recordingPath(stream.id), 300, 'internal'));
      expect(joinedSeconds).toBeCloseTo(firstSeconds + secondSeconds, 0);
      // Stored in S3, so gone from nginx's disk.
      for (const file of result.recordings) expect(existsSync(path.join(nginx.recordingsDir, file))).toBe(false);

      const { video } = await settledVideo(app, creator, result.vodVideoId!);
      expect(video).toMatchObject({ status: 'ready', source: 'recording' });
      expect(video.durationSeconds).toBeCloseTo(firstSeconds + secondSeconds, 0);
      expect((await call(app, 'GET', `/api/v1/streams/${stream.id}`)).json.data).toMatchObject({ status: 'ended', vodVideoId: video.id, playbackUrl: null });
      // The VOD's fan-out runs after the stream workflow returns.
      await waitUntil(async () => (await notificationsOf(fan.id, 'video_published')).length > 0, 'the video_published notification');
    });

    // One broadcast: one "is live" notification despite the reconnect, and one for the VOD.
    expect((await notificationsOf(fan.id, 'stream_live')).filter((n) => n.entity_id === stream.id)).toHaveLength(1);
    expect(await notificationsOf(fan.id, 'video_published')).toHaveLength(1);
    await waitUntil(() => statusesOf(stream.id).includes('ended'), 'the ended status on NATS');
    expect(statusesOf(stream.id)).toEqual(['live', 'reconnecting', 'live', 'reconnecting', 'ended']);
    const sessions = await t.ctx.db.selectFrom('stream_sessions').select(['ended_at', 'end_reason']).where('stream_id', '=', stream.id).execute();
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => s.ended_at !== null)).toBe(true);
  });

  it('takes a reconnect window of up to 1800 s (60 when none is given) and refuses 1801', async () => {
    const omitted = await createStream();
    const longest = await createStream({ reconnectWindowSeconds: 1800 });
    try {
      expect(omitted.reconnectWindowSeconds).toBe(60);
      expect((await call(app, 'GET', `/api/v1/streams/${omitted.id}`)).json.data.reconnectWindowSeconds).toBe(60);
      expect(longest.reconnectWindowSeconds).toBe(1800);
      expect((await call(app, 'GET', `/api/v1/streams/${longest.id}`)).json.data.reconnectWindowSeconds).toBe(1800);
      // The workflow runs with the stored window.
      expect(await startInputOf<StreamInput>(streamHandle(omitted.id))).toMatchObject({ reconnectWindowSeconds: 60, maxReconnects: 50 });
      expect(await startInputOf<StreamInput>(streamHandle(longest.id))).toMatchObject({ reconnectWindowSeconds: 1800 });

      const refused = await call(app, 'POST', '/api/v1/streams', { body: { title: 'Too patient', reconnectWindowSeconds: 1801 }, headers: creator.auth });
      expect(refused.status).toBe(400);
      expect(refused.json.error.code).toBe('validation_failed');
      expect(refused.json.error.details.map((d: { field: string }) => d.field)).toEqual(['reconnectWindowSeconds']);
    } finally {
      // Nobody will publish to these: leave no run behind in the shared namespace.
      await Promise.all([omitted, longest].map((s) => streamHandle(s.id).terminate('test over')));
    }
  });

  it('ends when the reconnect window runs out, refuses changes once ended, and an unlisted broadcast makes an unlisted VOD', async () => {
    const stream = await createStream({ reconnectWindowSeconds: 2, visibility: 'unlisted' });
    const rename = () => call(app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: 'Too late' }, headers: creator.auth });
    await withWorkers(t.ctx, async () => {
      const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      await sleep(2500);
      await dropEncoder(encoder);
      await waitForStatus(stream.id, 'reconnecting');
      await waitForStatus(stream.id, 'ended');
      // README: PATCH on an ended stream is a conflict, while its workflow still stores the recording…
      const whileStoring = await rename();
      expect(whileStoring.status).toBe(409);
      expect(whileStoring.json.error.code).toBe('conflict');
      const result = await streamHandle(stream.id).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 1 });
      expect(result.recordings).toHaveLength(1);
      const { video } = await settledVideo(app, creator, result.vodVideoId!);
      expect(video).toMatchObject({ status: 'ready', visibility: 'unlisted' });
      // The workflow starts a fan-out before it returns, so by now one would exist.
      await expect(t.ctx.temporal.client.workflow.getHandle(workflowIds.fanout(`video_published:${video.id}`)).describe()).rejects.toThrow(WorkflowNotFoundError);
      expect((await notificationsOf(fan.id, 'video_published')).map((n) => n.entity_id)).not.toContain(video.id);
    });
    // …and after the workflow is over.
    const afterwards = await rename();
    expect(afterwards.status).toBe(409);
    expect(afterwards.json.error.code).toBe('conflict');
    expect((await call(app, 'GET', `/api/v1/streams/${stream.id}`)).json.data.title).toBe('Live test');
    // An ended stream's key no longer publishes.
    const late = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
    const code = await exited(late, 'a publish to an ended stream', stream.id);
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
      expect(await exited(encoder, 'the encoder the cap cuts off', stream.id)).not.toBe(0);
      expect((await streamHandle(stream.id).result()).status).toBe('ended');
    });
    // Straight from live to ended: the cap, not a dropped encoder, ended it.
    await waitUntil(() => statusesOf(stream.id).includes('ended'), 'the ended status on NATS');
    expect(statusesOf(stream.id)).toEqual(['live', 'ended']);
    expect(await timersOf(streamHandle(stream.id))).toContain(3);
  });

  it('keeps the broadcast when the worker dies while live', async () => {
    const stream = await createStream({ reconnectWindowSeconds: 60 });
    const doomed = await spawnWorkerProcess(t.ctx, 'all');
    const encoder = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
    await waitForStatus(stream.id, 'live');
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    // The drop happens while no worker runs; the signal waits in the workflow's history.
    await dropEncoder(encoder);
    await withWorkers(t.ctx, async () => {
      await waitForStatus(stream.id, 'reconnecting');
      const again = publishTestPattern(nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(stream.id, 'live');
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await exited(again, 'the encoder the end cuts off', stream.id);
      const result = await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 2 });
      // The fan-out was started by the time the stream ended, but the dead worker may have held
      // its activity: the retry comes only after the activity's 1-minute start-to-close timeout.
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.fanout(`stream_live:${stream.id}`)).result();
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
      const secondCode = await exited(second, 'a second encoder', stream.id);
      expect(secondCode).not.toBe(0);
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await exited(encoder, 'the encoder the end cuts off', stream.id);
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
      const oldCode = await exited(old, 'a publish with the rotated-out key', stream.id);
      expect(oldCode).not.toBe(0);
      const encoder = publishTestPattern(nginx.rtmpUrl, newKey);
      await waitForStatus(stream.id, 'live');
      expect((await call(app, 'POST', `/api/v1/streams/${stream.id}/key/rotate`, { headers: creator.auth })).status).toBe(409);
      const renamed = await call(app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: 'Renamed live' }, headers: creator.auth });
      expect(renamed.status).toBe(200);
      expect(renamed.json.data.title).toBe('Renamed live');
      expect((await call(app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: '' }, headers: creator.auth })).status).toBe(400);
      await call(app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth });
      await exited(encoder, 'the encoder the end cuts off', stream.id);
      await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream.id)).result();
    });
  });

  it('lists public streams live first (reconnecting counts as live), then the newest, and never unlisted ones', async () => {
    const lister = await newUser(app);
    const make = (title: string, body: Record<string, unknown> = {}) => createStreamAs(app, lister, { title, ...body });
    // Created oldest first; only the status decides which group each one is listed in.
    const live = await make('Live, the oldest');
    const dropped = await make('Reconnecting');
    const unlisted = await make('Live but unlisted', { visibility: 'unlisted' });
    const over = await make('Ended', { reconnectWindowSeconds: 0 });
    const idle = await make('Idle, the newest');
    const ours = new Set([live, dropped, unlisted, over, idle].map((s) => s.id));
    const listed = async (query: string) => {
      const res = await call(app, 'GET', `/api/v1/streams?limit=100${query}`);
      expect(res.status).toBe(200);
      return (res.json.data as { id: string }[]).map((s) => s.id).filter((id) => ours.has(id));
    };
    try {
      await withWorkers(t.ctx, async () => {
        // nginx-rtmp's hooks, called as nginx calls them: the list depends on statuses, not on video.
        for (const s of [live, dropped, unlisted, over]) {
          expect((await rtmpHook('publish', { name: s.streamKey, clientid: `c-${s.id}` })).status).toBe(302);
          await waitForStatus(s.id, 'live');
        }
        for (const s of [dropped, over]) await rtmpHook('publish-done', { name: s.streamKey, clientid: `c-${s.id}` });
        await waitForStatus(dropped.id, 'reconnecting');
        await waitForStatus(over.id, 'ended');
      });
      // The unlisted stream is live, and still in no list.
      expect(await listed('')).toEqual([dropped.id, live.id, idle.id, over.id]);
      expect(await listed('&status=live')).toEqual([live.id]);
      expect(await listed('&status=reconnecting')).toEqual([dropped.id]);
      expect(await listed('&status=ended')).toEqual([over.id]);
      // Page by page, across the live/not-live boundary, the order holds.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await call(app, 'GET', `/api/v1/streams?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...(res.json.data as { id: string }[]).map((s) => s.id).filter((id) => ours.has(id)));
        cursor = res.json.meta.nextCursor;
      } while (cursor);
      expect(paged).toEqual([dropped.id, live.id, idle.id, over.id]);
      // The public list shows no key, not even its prefix.
      const first = (await call(app, 'GET', `/api/v1/streams?limit=100`)).json.data.find((s: { id: string }) => s.id === live.id);
      expect(first.playbackUrl).toBe(`${nginx.hlsUrl}/${live.id}.m3u8`);
      expect(first.streamKeyPrefix).toBeUndefined();
      // `ownerId`: anyone sees that owner's public streams; the owner sees all, unlisted ones too, with the key prefix.
      const byOwner = async (headers?: Record<string, string>) => {
        const res = await call(app, 'GET', `/api/v1/streams?limit=100&ownerId=${lister.id}`, { headers });
        expect(res.status).toBe(200);
        return res.json.data as { id: string; streamKeyPrefix?: string }[];
      };
      expect((await byOwner()).map((s) => s.id)).toEqual([dropped.id, live.id, idle.id, over.id]);
      expect((await byOwner(creator.auth)).map((s) => s.id)).toEqual([dropped.id, live.id, idle.id, over.id]);
      const own = await byOwner(lister.auth);
      expect(own.map((s) => s.id)).toEqual([unlisted.id, dropped.id, live.id, idle.id, over.id]);
      expect(own.every((s) => typeof s.streamKeyPrefix === 'string')).toBe(true);
    } finally {
      // Their encoders were never real: end the runs here rather than leave them waiting.
      await Promise.all([...ours].map((id) => streamHandle(id).terminate('test over').catch(() => {})));
    }
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
