import { randomUUID } from 'node:crypto';
import type { LiveThumbnailsResult } from '../../activities/live-thumbnails.ts';
import { LIVE_THUMBNAILS_PER_RUN } from '../../scripts/stack/provision.ts';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { serve, type ServerType } from '@hono/node-server';
import { expect } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { sleep, withTimeout } from '../../lib/async.ts';
import type { Config } from '../../lib/config.ts';
import { publishingClients } from '../../lib/rtmp.ts';
import type { TestContext } from './context.ts';
import type { TestUser } from './fixtures.ts';
import { call } from './http.ts';
import { encoderLog, startNginx, type TestNginx } from './nginx.ts';
import { freePort } from './ports.ts';

export interface LiveStack {
  app: App;
  nginx: TestNginx;
  close(): Promise<void>;
}

/**
 * A private nginx-rtmp whose hooks reach a real API server on a free port, and this file's
 * config (hence its workers) pointed at that nginx's control port, recordings and HLS directories.
 */
export async function startLiveStack(ctx: TestContext, streams: Partial<Config['streams']> = {}): Promise<LiveStack> {
  const port = await freePort();
  const nginx = await startNginx(`http://127.0.0.1:${port}`, ctx.config.internalSecret);
  ctx.config.rtmpControlUrl = nginx.controlUrl;
  ctx.config.rtmpRecordingsDir = nginx.recordingsDir;
  ctx.config.rtmpHlsDir = nginx.hlsDir;
  const config: Config = {
    ...ctx.config,
    rtmpRelayUrl: nginx.relayUrl,
    publicUrls: { ...ctx.config.publicUrls, api: `http://127.0.0.1:${port}`, hls: nginx.hlsUrl, rtmp: nginx.rtmpUrl },
    streams: { ...ctx.config.streams, ...streams },
    rateLimits: { ...ctx.config.rateLimits, generalPerMinute: 1_000_000 },
  };
  const app = createApp({ ...ctx.apiDeps(), config });
  const server: ServerType = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  return {
    app,
    nginx,
    async close() {
      await nginx.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CreatedStream {
  id: string;
  streamKey: string;
  status: string;
  reconnectWindowSeconds: number;
}

export async function createStream(app: App, owner: TestUser, body: Record<string, unknown> = {}): Promise<CreatedStream> {
  const res = await call(app, 'POST', '/api/v1/streams', { body: { title: 'Live test', ...body }, headers: owner.auth });
  expect(res.status, res.text).toBe(201);
  return res.json.data as CreatedStream;
}

/** Polls GET /streams/:id until it shows `wanted`; returns the stream. */
export async function waitForStatus(app: App, id: string, wanted: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await call(app, 'GET', `/api/v1/streams/${id}`);
    last = res.json.data.status;
    if (last === wanted) return res.json.data;
    await sleep(100);
  }
  throw new Error(`stream ${id} is ${last}, not ${wanted}, after ${timeoutMs} ms`);
}

/** Stops an encoder the way OBS does when its network drops: the connection just goes. */
export async function dropEncoder(encoder: ChildProcess): Promise<void> {
  if (encoder.exitCode !== null || encoder.signalCode !== null) return;
  encoder.kill('SIGKILL');
  await once(encoder, 'exit');
}

/**
 * The exit code of an encoder nginx refuses or cuts off (a bound only against hanging forever).
 * A hang fails with the encoder's last output and, given `explain`, what the stack saw then.
 */
export async function exitCode(encoder: ChildProcess, what: string, explain?: () => Promise<string>): Promise<number | null> {
  if (encoder.exitCode !== null) return encoder.exitCode;
  try {
    const [code] = (await withTimeout(once(encoder, 'exit'), 60_000, what)) as [number | null];
    return code;
  } catch (err) {
    const seen = await explain?.().catch((e: Error) => `(could not look: ${e.message})`);
    throw new Error(`${(err as Error).message}\nencoder output: ${encoderLog(encoder) || '(none)'}${seen ? `\n${seen}` : ''}`);
  }
}

/** What nginx-rtmp and the database know of a stream's publish, for a failure message. */
export async function ingestSnapshot(ctx: TestContext, controlUrl: string, streamId: string): Promise<string> {
  const stream = await ctx.db.selectFrom('streams').select(['status', 'moderation_ended_at']).where('id', '=', streamId).executeTakeFirst();
  const sessions = await ctx.db.selectFrom('stream_sessions').select(['client_id', 'started_at', 'ended_at']).where('stream_id', '=', streamId).orderBy('started_at').execute();
  const publishing = await publishingClients(controlUrl).catch((e: Error) => `(stat failed: ${e.message})`);
  return `stream: ${JSON.stringify(stream)}\nsessions: ${JSON.stringify(sessions)}\nnginx publishing client ids: ${JSON.stringify(publishing instanceof Set ? [...publishing] : publishing)}`;
}

/** One run of what the live-thumbnails Schedule starts every minute, on this file's queues. */
export function takeLiveThumbnails(ctx: TestContext): Promise<LiveThumbnailsResult> {
  return ctx.temporal.client.workflow.execute('liveThumbnailsWorkflow', {
    taskQueue: ctx.config.temporal.taskQueue,
    workflowId: `live-thumbnails/test-${randomUUID()}`,
    args: [{ mediaTaskQueue: ctx.config.temporal.mediaTaskQueue, maxStreams: LIVE_THUMBNAILS_PER_RUN }],
  });
}
