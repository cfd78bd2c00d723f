import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { verifyAccess } from '../lib/access.ts';
import { addressHolder, clientAddress } from '../lib/client-address.ts';
import type { Config } from '../lib/config.ts';
import type { Db } from '../lib/db.ts';
import { AppError, errorBody } from '../lib/errors.ts';
import { runHealthChecks } from '../lib/health.ts';
import type { Logger } from '../lib/logger.ts';
import type { Mongo } from '../lib/mongo.ts';
import { bucketKeys, jetStreamManager, jetStreamResources, pingNats, type Nats } from '../lib/nats.ts';
import { originAllowed } from '../lib/origins.ts';
import { isInternalCaller } from '../lib/secrets.ts';
import { signOutMessages, type SignOutReason } from '../lib/sign-outs.ts';
import type { AccessClaims, TokenSigner } from '../lib/tokens.ts';
import { restrictionRefusal, stillInForce, type ChannelModerationEvent } from '../lib/moderation/channel.ts';
import { watchChannelStandings } from './channel-standings.ts';
import { startChatArchiver } from './chat-archiver.ts';
import { createChatSender } from './chat.ts';
import type { History } from './chat-room.ts';
import { parseClientFrame, type ServerFrame } from './frames.ts';
import { createHub, type Client } from './hub.ts';
import { AddressSlots, FrameBudget } from './limits.ts';
import { createRealtimeMetrics } from './metrics.ts';
import { watchSessions } from './sessions.ts';
import { TtlCache } from './ttl-cache.ts';
import { anonymousViewerKey, startViewerCounts, userViewerKey } from './viewers.ts';

export const MAX_FRAME_BYTES = 16 * 1024;
const HEARTBEAT_MS = 25_000;
const HEARTBEAT_SLICES = 25;
/** Each room costs this gateway subscriptions and a window of chat; a viewer needs a few. */
export const MAX_ROOMS_PER_SOCKET = 10;
/** Joins a socket may make per minute (each may read JetStream); a reconnecting client needs one per room. */
const JOINS_PER_MINUTE = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GatewayLimits {
  /** Open sockets per client address (its /64 for IPv6) on this gateway. */
  connectionsPerAddress: number;
  /** Frames a socket may send: a bucket of `count`, refilled evenly over `windowMs`. */
  frames: { count: number; windowMs: number };
  /** How often the sessions of signed-in sockets are re-checked in Postgres. */
  sessionCheckMs: number;
}

export function gatewayLimits(realtime: Config['realtime']): GatewayLimits {
  return {
    connectionsPerAddress: realtime.connectionsPerAddress,
    frames: { count: realtime.framesPer10Seconds, windowMs: 10_000 },
    sessionCheckMs: realtime.sessionCheckSeconds * 1000,
  };
}

export interface GatewayDeps {
  logger: Logger;
  nats: Nats;
  db: Db;
  /** The chat archive; each gateway also runs an archiver on the shared durable consumer. */
  mongo: Mongo;
  tokens: TokenSigner;
  healthTimeoutMs: number;
  /** Browser origins that may open sockets (CORS_ORIGINS). */
  corsOrigins: readonly string[];
  /** Unlocks `/health` details and `/metrics`; also keys the hashes anonymous viewers are counted by. */
  internalSecret: string;
  /** Believe X-Forwarded-For for the client address (TRUST_PROXY). */
  trustProxy: boolean;
  limits: GatewayLimits;
  /** How often viewer counts are shared and broadcast. */
  viewerCountIntervalMs?: number;
  /** How long a sender's subscriber badge (and perks) on a channel is trusted (default PERKS_TTL_MS). */
  perksTtlMs?: number;
}

/** What the gateway keeps per socket beside the hub's view of it. */
interface Connection {
  client: Client;
  /** Who the socket counts as while anonymous (per client address). */
  anonymousKey: string;
  /** Signs the socket out when its access token expires. */
  expiry?: NodeJS.Timeout;
  /** Rooms being joined (the stream lookup is asynchronous): they count toward the room cap. */
  joining: Set<string>;
}

export interface Gateway {
  server: Server;
  /** Closes every socket with "going away" and stops accepting new ones. */
  close(): Promise<void>;
}

const headerOf = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

/**
 * The WebSocket gateway: `/ws` for clients, `/health` for load balancers. Stateless apart
 * from its open sockets; any number of instances coordinate only through NATS.
 */
export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const gatewayId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const metrics = createRealtimeMetrics({ sockets: () => wss.clients.size, rooms: () => hub.rooms().size });
  const hub = createHub({ ...deps, metrics });
  const { viewersBucket } = jetStreamResources(deps.nats.subject(''));
  const [kv, jsm] = await Promise.all([deps.nats.connection.jetstream().views.kv(viewersBucket.name), jetStreamManager(deps.nats)]);
  const viewers = startViewerCounts({
    kv,
    keys: () => bucketKeys(jsm, viewersBucket.name),
    db: deps.db,
    hub,
    gatewayId,
    intervalMs: deps.viewerCountIntervalMs ?? 5000,
    logger: deps.logger,
  });
  const standings = watchChannelStandings({ ...deps, onChange: (event) => void tellRestricted(event) });
  const chat = createChatSender({ ...deps, metrics, standings });
  const archiver = startChatArchiver({ ...deps, metrics });
  const server = createServer((req, res) => void answerHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const slots = new AddressSlots(deps.limits.connectionsPerAddress);
  const connections = new WeakMap<Client, Connection>();
  const sessions = watchSessions({ ...deps, hub, intervalMs: deps.limits.sessionCheckMs, signOut });

  /** `/health` for load balancers (status only, unless the caller is internal) and `/metrics` for operators. */
  async function answerHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const internal = isInternalCaller((name) => headerOf(req, name), deps.internalSecret);
    if (path === '/health') {
      const report = await runHealthChecks([{ name: 'nats', check: () => pingNats(deps.nats) }], deps.healthTimeoutMs);
      const status = report.status === 'ok' ? 200 : 503;
      if (status === 503) deps.logger.warn({ failing: report.failing, components: report.components }, 'health check failing');
      // The API's /health shape: the status for everyone, the report for operators.
      return json(status, internal ? { ...report, sockets: wss.clients.size } : { status: report.status });
    }
    if (path === '/metrics') {
      if (!internal) return json(401, errorBody('unauthorized', 'Metrics are for operators: send the internal secret as a bearer token'));
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    json(404, errorBody('not_found', 'Not found; connect a WebSocket to /ws'));
  }

  /**
   * A user just timed out or banned in a channel hears it in each of its rooms they are in here,
   * with why and until when; once it is lifted, they hear that too, so a client re-enables its
   * chat input without reloading.
   */
  async function tellRestricted(event: ChannelModerationEvent): Promise<void> {
    if (event.change !== 'restriction' || event.restriction === undefined) return;
    const frameFor = (streamId: string): ServerFrame => {
      if (!event.restriction) return { type: 'chat_restriction_lifted', streamId };
      const { type, reason, until } = event.restriction;
      const { code, ...why } = restrictionRefusal({ type, reason, until: until ? new Date(until) : null });
      return { type: 'error', code, streamId, ...why };
    };
    for (const client of [...hub.clientsOf(event.userId)]) {
      for (const streamId of [...client.rooms]) {
        try {
          if ((await chat.ownerOf(streamId)) === event.ownerId) hub.send(client, frameFor(streamId));
        } catch (err) {
          deps.logger.warn({ err, streamId }, 'could not tell a socket about its chat restriction');
        }
      }
    }
  }

  const refuse = (socket: Duplex, status: string, reason: string) => {
    metrics.refusedConnections.inc({ reason });
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  server.on('upgrade', async (req, socket, head) => {
    // Node drops its own error handler on upgrade; a client reset during the token check below must not crash us.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // Another site's page must not use a visitor's browser (and its address) to open sockets.
    if (!originAllowed(headerOf(req, 'origin'), deps.corsOrigins)) return refuse(socket, '403 Forbidden', 'origin');
    const address = addressHolder(clientAddress({ forwardedFor: headerOf(req, 'x-forwarded-for'), remote: req.socket.remoteAddress, trustProxy: deps.trustProxy }));
    // Taken before anything asynchronous, so parallel connects cannot overshoot; given back when the TCP connection ends.
    if (!slots.acquire(address)) return refuse(socket, '429 Too Many Requests', 'address_limit');
    socket.once('close', () => slots.release(address));
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
    wss.handleUpgrade(req, socket, head, (ws) => {
      const anonymousKey = anonymousViewerKey(deps.internalSecret, address);
      const client: Client = { socket: ws, userId: null, sessionId: null, viewerKey: anonymousKey, rooms: new Set(), holding: new Map() };
      const connection: Connection = { client, anonymousKey, joining: new Set() };
      connections.set(client, connection);
      if (access) signIn(connection, access);
      serve(connection);
    });
  });

  /** Makes the socket this user's until the token expires, the session ends, or another `auth` replaces it. */
  function signIn(connection: Connection, claims: AccessClaims): void {
    const { client } = connection;
    hub.setUser(client, claims.userId);
    client.sessionId = claims.sessionId;
    client.viewerKey = userViewerKey(claims.userId);
    clearTimeout(connection.expiry);
    connection.expiry = setTimeout(() => signOut(client, 'token_expired'), Math.max(0, claims.expiresAt.getTime() - Date.now()));
    connection.expiry.unref();
  }

  /** Tells the socket why, and keeps it open as an anonymous viewer in the same rooms. */
  function signOut(client: Client, reason: SignOutReason): void {
    const connection = connections.get(client);
    if (!connection || !client.userId) return;
    clearTimeout(connection.expiry);
    hub.send(client, { type: 'signed_out', reason, message: signOutMessages[reason] });
    hub.setUser(client, null);
    client.sessionId = null;
    client.viewerKey = connection.anonymousKey;
    metrics.signOuts.inc({ reason });
  }

  /** The `auth` frame: a fresh token keeps the socket signed in; a bad one changes nothing. */
  async function authenticate(connection: Connection, token: string): Promise<void> {
    const { client } = connection;
    let claims: AccessClaims;
    try {
      claims = await verifyAccess(deps.db, deps.tokens, token);
    } catch (err) {
      if (err instanceof AppError) return hub.send(client, { type: 'error', code: err.code, message: err.message });
      deps.logger.warn({ err }, 'could not check an access token');
      return hub.send(client, { type: 'error', code: 'unavailable', message: 'Could not check the token; try again' });
    }
    if (client.socket.readyState !== client.socket.OPEN) return;
    signIn(connection, claims);
    hub.send(client, { type: 'authenticated', userId: claims.userId, expiresAt: claims.expiresAt.toISOString() });
  }

  // A burst of joins to one stream (a raid, a reconnect storm) costs one lookup, and so does a
  // client repeating an unknown id: stream ids are random and handed out only once their row
  // exists, so "unknown" stays true. Two caches, so a flood of unknown ids cannot evict known streams.
  const knownStreams = new TtlCache<string, boolean>(60_000, 50_000, (exists) => exists);
  const unknownStreams = new TtlCache<string, boolean>(60_000, 50_000, (exists) => !exists);
  const lookUpStream = async (streamId: string) => Boolean(await deps.db.selectFrom('streams').select('id').where('id', '=', streamId).executeTakeFirst());
  const joinable = async (streamId: string) =>
    UUID.test(streamId) && knownStreams.get(streamId, () => unknownStreams.get(streamId, () => lookUpStream(streamId)));

  // Sockets that miss a heartbeat are dead (NAT timeouts, sleeping laptops) and are dropped.
  // Each socket pings every HEARTBEAT_MS, but in one of HEARTBEAT_SLICES turns: pinging
  // 10,000 sockets at once would stall chat delivery for as long as those writes take.
  const slices = Array.from({ length: HEARTBEAT_SLICES }, () => new Set<WebSocket>());
  const alive = new WeakSet<WebSocket>();
  let nextSlice = 0;
  let turn = 0;

  /** One connection, from upgrade to close. */
  function serve(connection: Connection): void {
    const { client, joining } = connection;
    const { socket } = client;
    const reply = (frame: ServerFrame) => hub.send(client, frame);
    const queueChat = chat.queueFor(reply);
    const budget = new FrameBudget(deps.limits.frames.count, deps.limits.frames.windowMs);
    let overBudget = false;
    let recentJoins: number[] = [];
    const slice = slices[nextSlice++ % HEARTBEAT_SLICES]!;
    slice.add(socket);
    alive.add(socket);

    const joinRefusal = (streamId: string): ServerFrame | undefined => {
      // Rooms still being joined count: otherwise parallel joins would all see room to spare.
      const entering = !client.rooms.has(streamId) && !joining.has(streamId);
      if (entering && client.rooms.size + joining.size >= MAX_ROOMS_PER_SOCKET) {
        return { type: 'error', code: 'too_many_rooms', message: `A connection can be in at most ${MAX_ROOMS_PER_SOCKET} streams; leave one first` };
      }
      const now = Date.now();
      recentJoins = recentJoins.filter((t) => t > now - 60_000);
      if (recentJoins.length >= JOINS_PER_MINUTE) return { type: 'error', code: 'rate_limited', message: 'Too many joins; wait a minute', retryAfterSeconds: 60 };
      recentJoins.push(now);
      return undefined;
    };

    socket.on('close', () => {
      clearTimeout(connection.expiry);
      slice.delete(socket);
      hub.remove(client);
    });
    socket.on('pong', () => alive.add(socket));
    socket.on('error', (err) => deps.logger.debug({ err }, 'socket error'));
    socket.on('message', (data, isBinary) => {
      if (overBudget) return;
      if (!budget.take()) {
        overBudget = true;
        metrics.framesOverBudget.inc();
        reply({ type: 'error', code: 'too_many_frames', message: `Too many frames: at most ${deps.limits.frames.count} per ${deps.limits.frames.windowMs / 1000} s` });
        socket.close(1008, 'too many frames');
        return;
      }
      if (isBinary) return reply({ type: 'error', code: 'bad_frame', message: 'Binary frames are not supported' });
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) return reply(parsed.error);
      const frame = parsed.frame;
      switch (frame.type) {
        case 'ping':
          return reply({ type: 'pong' });
        case 'auth':
          return void authenticate(connection, frame.token);
        case 'join': {
          const refusal = joinRefusal(frame.streamId);
          if (refusal) return reply(refusal);
          return void join(connection, frame.streamId, frame.since);
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

  async function join({ client, joining }: Connection, streamId: string, since: number | undefined): Promise<void> {
    const { socket } = client;
    const alreadyJoining = joining.has(streamId);
    joining.add(streamId);
    let room;
    try {
      if (!(await joinable(streamId))) return hub.send(client, { type: 'error', code: 'not_found', message: 'No such stream' });
      // The socket may have closed during the lookup; joining now would leak a ghost viewer.
      if (socket.readyState !== socket.OPEN) return;
      room = hub.join(client, streamId);
    } catch {
      return hub.send(client, { type: 'error', code: 'unavailable', message: 'Could not join; try again' });
    } finally {
      // From here the room is in client.rooms (or was refused): it no longer needs holding a place.
      if (!alreadyJoining) joining.delete(streamId);
    }
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
    await tellOwnRestriction(client, streamId);
  }

  /**
   * A user timed out or banned in the channel hears it on joining, as an open socket hears it
   * when it happens: a page opened after the restriction starts with its chat input off.
   */
  async function tellOwnRestriction(client: Client, streamId: string): Promise<void> {
    if (!client.userId) return;
    try {
      const ownerId = await chat.ownerOf(streamId);
      if (!ownerId) return;
      const standing = await standings.of(ownerId, client.userId);
      if (!stillInForce(standing.restriction)) return;
      const { code, ...why } = restrictionRefusal(standing.restriction);
      hub.send(client, { type: 'error', code, streamId, ...why });
    } catch (err) {
      // Sending still checks the restriction: the page only learns of it one message later.
      deps.logger.warn({ err, streamId }, 'could not tell a joining socket about its chat restriction');
    }
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
      await sessions.stop();
      standings.stop();
      await viewers.stop();
      await archiver.stop();
      hub.close();
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
