import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { verifyAccess } from '../lib/access.ts';
import type { Db } from '../lib/db.ts';
import { AppError, errorBody } from '../lib/errors.ts';
import { runHealthChecks } from '../lib/health.ts';
import type { Logger } from '../lib/logger.ts';
import type { Mongo } from '../lib/mongo.ts';
import { jetStreamResources, pingNats, type Nats } from '../lib/nats.ts';
import type { AccessClaims, TokenSigner } from '../lib/tokens.ts';
import { startChatArchiver } from './chat-archiver.ts';
import { createChatSender } from './chat.ts';
import type { History } from './chat-room.ts';
import { parseClientFrame, type ServerFrame } from './frames.ts';
import { createHub, type Client } from './hub.ts';
import { createRealtimeMetrics } from './metrics.ts';
import { TtlCache } from './ttl-cache.ts';
import { startViewerCounts } from './viewers.ts';

export const MAX_FRAME_BYTES = 16 * 1024;
const HEARTBEAT_MS = 25_000;
const HEARTBEAT_SLICES = 25;
/** Each room costs this gateway subscriptions and a window of chat; a viewer needs a few. */
export const MAX_ROOMS_PER_SOCKET = 10;
/** Joins a socket may make per minute (each may read JetStream); a reconnecting client needs one per room. */
const JOINS_PER_MINUTE = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GatewayDeps {
  logger: Logger;
  nats: Nats;
  db: Db;
  /** The chat archive; each gateway also runs an archiver on the shared durable consumer. */
  mongo: Mongo;
  tokens: TokenSigner;
  healthTimeoutMs: number;
  /** How often viewer counts are shared and broadcast. */
  viewerCountIntervalMs?: number;
}

export interface Gateway {
  server: Server;
  /** Closes every socket with "going away" and stops accepting new ones. */
  close(): Promise<void>;
}

/**
 * The WebSocket gateway: `/ws` for clients, `/health` for load balancers. Stateless apart
 * from its open sockets; any number of instances coordinate only through NATS.
 */
export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const gatewayId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const metrics = createRealtimeMetrics({ sockets: () => wss.clients.size, rooms: () => hub.rooms().size });
  const hub = createHub({ ...deps, metrics });
  const kv = await deps.nats.connection.jetstream().views.kv(jetStreamResources(deps.nats.subject('')).viewersBucket.name);
  const viewers = startViewerCounts({ kv, db: deps.db, hub, gatewayId, intervalMs: deps.viewerCountIntervalMs ?? 5000, logger: deps.logger });
  const chat = createChatSender({ ...deps, metrics });
  const archiver = startChatArchiver({ ...deps, metrics });
  const server = createServer(async (req, res) => {
    if (req.url === '/health') {
      const report = await runHealthChecks([{ name: 'nats', check: () => pingNats(deps.nats) }], deps.healthTimeoutMs);
      const ok = report.status === 'ok';
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok
            ? { success: true, data: { status: 'ok', components: report.components, sockets: wss.clients.size } }
            : errorBody('unavailable', `Unhealthy: ${report.failing.join(', ')}`, report),
        ),
      );
      return;
    }
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(errorBody('not_found', 'Not found; connect a WebSocket to /ws')));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on('upgrade', async (req, socket, head) => {
    // Node drops its own error handler on upgrade; a client reset during the token check below must not crash us.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // Anonymous viewers omit the token; a token that is present must be valid.
    const token = url.searchParams.get('token');
    let access: AccessClaims | null = null;
    if (token) {
      try {
        access = await verifyAccess(deps.db, deps.tokens, token);
      } catch (err) {
        const status = err instanceof AppError ? err.status : 503;
        socket.end(`HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Unauthorized'}\r\nConnection: close\r\n\r\n`);
        return;
      }
    }
    const device = url.searchParams.get('device')?.slice(0, 64);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = {
        socket: ws,
        userId: access?.userId ?? null,
        viewerKey: access ? `u:${access.userId}` : `d:${device || randomUUID()}`,
        rooms: new Set(),
        holding: new Map(),
      };
      hub.addUser(client);
      serve(client);
    });
  });

  // A burst of joins to one stream (a raid, a reconnect storm) costs one lookup.
  const knownStreams = new TtlCache<string, boolean>(60_000, 50_000, (exists) => exists);
  const joinable = async (streamId: string) =>
    UUID.test(streamId) &&
    knownStreams.get(streamId, async () => Boolean(await deps.db.selectFrom('streams').select('id').where('id', '=', streamId).executeTakeFirst()));

  // Sockets that miss a heartbeat are dead (NAT timeouts, sleeping laptops) and are dropped.
  // Each socket pings every HEARTBEAT_MS, but in one of HEARTBEAT_SLICES turns: pinging
  // 10,000 sockets at once would stall chat delivery for as long as those writes take.
  const slices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<WebSocket>());
  const alive = new WeakSet<WebSocket>();
  let nextSlice = 0;
  let turn = 0;

  /** One connection, from upgrade to close. */
  function serve(client: Client): void {
    const { socket } = client;
    const reply = (frame: ServerFrame) => hub.send(client, frame);
    const queueChat = chat.queueFor(reply);
    let recentJoins: number[] = [];
    const slice = slices[nextSlice++ % HEARTBEAT_SLICES]!;
    slice.add(socket);
    alive.add(socket);

    const joinRefusal = (streamId: string): ServerFrame | undefined => {
      if (!client.rooms.has(streamId) && client.rooms.size >= MAX_ROOMS_PER_SOCKET) {
        return { type: 'error', code: 'too_many_rooms', message: `A connection can be in at most ${MAX_ROOMS_PER_SOCKET} streams; leave one first` };
      }
      const now = Date.now();
      recentJoins = recentJoins.filter((t) => t > now - 60_000);
      if (recentJoins.length >= JOINS_PER_MINUTE) return { type: 'error', code: 'rate_limited', message: 'Too many joins; wait a minute', retryAfterSeconds: 60 };
      recentJoins.push(now);
      return undefined;
    };

    socket.on('close', () => {
      slice.delete(socket);
      hub.remove(client);
    });
    socket.on('pong', () => alive.add(socket));
    socket.on('error', (err) => deps.logger.debug({ err }, 'socket error'));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return reply({ type: 'error', code: 'bad_frame', message: 'Binary frames are not supported' });
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) return reply(parsed.error);
      const frame = parsed.frame;
      switch (frame.type) {
        case 'ping':
          return reply({ type: 'pong' });
        case 'join': {
          const refusal = joinRefusal(frame.streamId);
          if (refusal) return reply(refusal);
          return void join(client, frame.streamId, frame.since);
        }
        case 'leave':
          return hub.leave(client, frame.streamId);
        case 'chat':
          return queueChat({
            userId: client.userId,
            streamId: frame.streamId,
            text: frame.text,
            nonce: frame.nonce,
            joined: client.rooms.has(frame.streamId) && !client.holding.has(frame.streamId),
          });
      }
    });
  }

  async function join(client: Client, streamId: string, since: number | undefined): Promise<void> {
    const { socket } = client;
    try {
      if (!(await joinable(streamId))) return hub.send(client, { type: 'error', code: 'not_found', message: 'No such stream' });
    } catch {
      return hub.send(client, { type: 'error', code: 'unavailable', message: 'Could not join; try again' });
    }
    // The socket may have closed during the lookup; joining now would leak a ghost viewer.
    if (socket.readyState !== socket.OPEN) return;
    const room = hub.join(client, streamId);
    let history: History;
    try {
      history = since === undefined ? await room.recent(client.userId) : await room.recover(since, client.userId);
    } catch (err) {
      deps.logger.warn({ err, streamId }, 'could not read chat history');
      if (since !== undefined) {
        // "Not resumed" would make the client drop what it has; it keeps its offset and asks again.
        hub.leave(client, streamId);
        return hub.send(client, { type: 'error', code: 'unavailable', message: 'Could not join; try again' });
      }
      // Live chat and counts still work; only the backlog is missing, and the client is told so.
      history = { history: [], lastSeq: 0, deletions: [], resumed: false };
    }
    hub.completeJoin(client, streamId, history);
  }

  const heartbeat = setInterval(() => {
    for (const socket of slices[turn++ % HEARTBEAT_SLICES]!) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS / HEARTBEAT_SLICES);
  heartbeat.unref();

  return {
    server,
    async close() {
      clearInterval(heartbeat);
      await viewers.stop();
      await archiver.stop();
      hub.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
