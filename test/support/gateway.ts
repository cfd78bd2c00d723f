import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { StreamStatus } from '../../lib/schema.ts';
import { createTokenSigner } from '../../lib/tokens.ts';
import { createGateway, gatewayLimits, type Gateway, type GatewayDeps, type GatewayLimits } from '../../realtime/gateway.ts';
import type { TestContext } from './context.ts';
import { waitUntil } from './wait.ts';

export type GatewayOptions = Partial<Pick<GatewayDeps, 'viewerCountIntervalMs' | 'perksTtlMs' | 'trustProxy' | 'corsOrigins' | 'nats'>> & { limits?: Partial<GatewayLimits> };

/**
 * Gateway instances in this process, sharing the file's NATS prefix, database and Mongo
 * database, configured as the file's config says (limits as in production) unless overridden.
 */
export async function startGateways(ctx: TestContext, count: number, options: GatewayOptions = {}) {
  const tokens = createTokenSigner({ secret: ctx.config.auth.jwtSecret, ttlSeconds: 900 });
  const gateways: Gateway[] = [];
  const urls: string[] = [];
  const { limits, ...rest } = options;
  for (let i = 0; i < count; i++) {
    const gateway = await createGateway({
      logger: ctx.logger,
      nats: ctx.nats,
      db: ctx.db,
      mongo: ctx.mongo,
      tokens,
      healthTimeoutMs: 1000,
      corsOrigins: ctx.config.corsOrigins,
      internalSecret: ctx.config.internalSecret,
      trustProxy: ctx.config.rateLimits.trustProxy,
      ...rest,
      limits: { ...gatewayLimits(ctx.config.realtime), ...limits },
    });
    await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
    gateways.push(gateway);
    urls.push(`127.0.0.1:${(gateway.server.address() as AddressInfo).port}`);
  }
  return { gateways, urls };
}

export type TestSocket = Awaited<ReturnType<typeof connectSocket>>;

/** A socket that records every frame it receives. */
export async function connectSocket(url: string, query = '', opened: WebSocket[] = [], headers: Record<string, string> = {}) {
  const socket = new WebSocket(`ws://${url}/ws${query}`, { headers });
  opened.push(socket);
  const frames: any[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await once(socket, 'open');
  return { socket, frames, send: (frame: unknown) => socket.send(JSON.stringify(frame)) };
}

/** Tries to open a socket: the open socket, or the HTTP status the upgrade was refused with. */
export function tryConnect(url: string, query = '', headers: Record<string, string> = {}, opened: WebSocket[] = []): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${url}/ws${query}`, { headers });
    socket.once('open', () => {
      opened.push(socket);
      resolve(socket);
    });
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      socket.terminate();
      resolve(res.statusCode ?? 0);
    });
    socket.once('error', reject);
  });
}

/** Joins a room (resuming after `since` when given) and returns the `joined` frame. */
export async function joinRoom(socket: TestSocket, streamId: string, since?: number | string) {
  const before = socket.frames.length;
  socket.send({ type: 'join', streamId, ...(since === undefined ? {} : { since: Number(since) }) });
  const answer = () => socket.frames.slice(before).find((f) => (f.type === 'joined' && f.streamId === streamId) || f.type === 'error');
  await until(() => Boolean(answer()), `an answer to joining ${streamId}`);
  const frame = answer();
  if (frame.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(frame)}`);
  return frame;
}

/** Sends a chat message and waits for the answer to its nonce: the sender's own echo, or an error. */
export async function sendChat(socket: TestSocket, streamId: string, text: string, nonce = `n-${randomBytes(6).toString('hex')}`) {
  const before = socket.frames.length;
  socket.send({ type: 'chat', streamId, text, nonce });
  const answer = () => socket.frames.slice(before).find((f) => f.nonce === nonce);
  await until(() => Boolean(answer()), `an answer to ${nonce}`);
  return answer();
}

/**
 * Waits until every frame the gateway wrote to this socket so far has arrived: the answer to
 * a ping follows them on the same connection. For "nothing else came" checks, after a
 * witness has seen the event that would have produced the unwanted frame.
 */
export async function drained(socket: TestSocket): Promise<void> {
  const before = socket.frames.length;
  socket.send({ type: 'ping' });
  await until(() => socket.frames.slice(before).some((f) => f.type === 'pong'), 'the pong after everything sent so far');
}

/** waitUntil for a yes/no condition, polled often (socket frames arrive within milliseconds). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => (await check()) || undefined, what, timeoutMs, 25);
}

/** A stream row without its workflow: the gateway only reads the row. */
export async function insertStream(ctx: TestContext, ownerId: string, status: StreamStatus = 'live'): Promise<string> {
  const row = await ctx.db
    .insertInto('streams')
    .values({ owner_id: ownerId, title: 'Gateway test', status, stream_key_hash: randomBytes(16).toString('hex'), stream_key_prefix: 'live_test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
