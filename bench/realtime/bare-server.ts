import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectNats } from '../../lib/nats.ts';

// The baseline: about the least a NATS → WebSocket broadcast can do. `/ws?room=<room>`
// puts a socket in a room; the first socket of a room subscribes `bench.bare.<room>`, and
// every payload goes as-is (one buffer, no per-socket work) to every socket of the room.
// Usage (by the bench): bare-server.ts <nats url> <subject prefix>; tells its port over IPC.

const [natsUrl = 'nats://127.0.0.1:4222', subjectPrefix = ''] = process.argv.slice(2);
const nats = await connectNats({ url: natsUrl, subjectPrefix, name: 'bench-realtime-bare' });
const rooms = new Map<string, Set<WebSocket>>();

function roomOf(room: string): Set<WebSocket> {
  let members = rooms.get(room);
  if (members) return members;
  const created = new Set<WebSocket>();
  nats.connection.subscribe(nats.subject(`bench.bare.${room}`), {
    callback: (_err, msg) => {
      for (const socket of created) socket.send(msg.data, { binary: false });
    },
  });
  rooms.set(room, created);
  return created;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 }, () => {
  process.send!({ type: 'listening', port: (wss.address() as AddressInfo).port });
});
wss.on('connection', (socket, req) => {
  const members = roomOf(new URL(req.url ?? '/', 'http://bare').searchParams.get('room') ?? '');
  members.add(socket);
  socket.on('close', () => members.delete(socket));
  socket.on('error', () => {});
});
process.on('disconnect', () => process.exit(0));
