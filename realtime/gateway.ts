import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { runHealthChecks } from '../lib/health.ts';
import type { Logger } from '../lib/logger.ts';
import { pingNats, type Nats } from '../lib/nats.ts';
import { errorBody } from '../lib/errors.ts';
import { parseClientFrame, type ServerFrame } from './frames.ts';

export const MAX_FRAME_BYTES = 16 * 1024;
const HEARTBEAT_MS = 25_000;

export interface Gateway {
  server: Server;
  /** Closes every socket with "going away" and stops accepting new ones. */
  close(): Promise<void>;
}

function send(socket: WebSocket, frame: ServerFrame): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
}

/**
 * The WebSocket gateway: `/ws` for clients, `/health` for load balancers. Stateless apart
 * from its open sockets; chat, viewer counts and pushes arrive with the realtime issue.
 */
export function createGateway(deps: { logger: Logger; nats: Nats; healthTimeoutMs: number }): Gateway {
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
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(errorBody('not_found', 'Not found; connect a WebSocket to /ws')));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const alive = new WeakSet<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('error', (err) => deps.logger.debug({ err }, 'socket error'));
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        send(socket, { type: 'error', code: 'bad_frame', message: 'Binary frames are not supported' });
        return;
      }
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) {
        send(socket, parsed.error);
        return;
      }
      if (parsed.frame.type === 'ping') {
        send(socket, { type: 'pong' });
        return;
      }
      send(socket, {
        type: 'error',
        code: 'not_available',
        message: `"${parsed.frame.type}" is not available on this gateway yet`,
        ...(parsed.frame.type === 'chat' && parsed.frame.nonce ? { nonce: parsed.frame.nonce } : {}),
      });
    });
  });

  // Sockets that miss a heartbeat are dead (NAT timeouts, sleeping laptops) and are dropped.
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    server,
    async close() {
      clearInterval(heartbeat);
      for (const socket of wss.clients) socket.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
