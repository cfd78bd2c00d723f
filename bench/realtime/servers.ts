import type { ChildProcess } from 'node:child_process';
import { sleep } from '../../lib/async.ts';
import { publishChatEvent } from '../../lib/chat.ts';
import type { Nats } from '../../lib/nats.ts';
import { freePort, nextMessage, startChild, stopChild } from './children.ts';

// The two servers the realtime bench compares, each in its own process so that its memory
// and CPU can be read from /proc, behind one interface the phase runner drives.

export interface ServerUnderTest {
  label: string;
  pid: number;
  /** Where viewer socket `n` of `room` connects, and the frame it sends to join, if any. */
  socket(room: string, n: number): { url: string; join?: string };
  /** Puts one chat message carrying `text` into the room, through the server's own pipeline. */
  publish(room: string, text: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBareServer(nats: Nats, natsUrl: string): Promise<ServerUnderTest> {
  const child = startChild('bench/realtime/bare-server.ts', [natsUrl, nats.subject('')]);
  const { port } = await nextMessage<{ type: 'listening'; port: number }>(child, 'listening', 30_000);
  let seq = 0;
  return {
    label: 'bare ws (baseline)',
    pid: child.pid!,
    socket: (room) => ({ url: `ws://127.0.0.1:${port}/ws?room=${room}` }),
    async publish(room, text) {
      // The gateway's chat frame, so both servers put the same bytes on the wire.
      const frame = { type: 'chat', streamId: room, id: ++seq, userId: 'bench', username: 'bench', text, sentAt: new Date().toISOString() };
      nats.connection.publish(nats.subject(`bench.bare.${room}`), JSON.stringify(frame));
    },
    stop: () => stopChild(child),
  };
}

export async function startGateway(options: {
  env: NodeJS.ProcessEnv;
  nats: Nats;
  userId: string;
  cpuProfileDir?: string;
}): Promise<ServerUnderTest> {
  const { nats, userId } = options;
  const port = await freePort();
  const child = startChild('realtime/server.ts', [], {
    env: {
      ...options.env,
      REALTIME_HOST: '127.0.0.1',
      REALTIME_PORT: String(port),
      LOG_LEVEL: 'warn',
      NATS_SUBJECT_PREFIX: nats.subject(''),
      // Every bench socket comes from 127.0.0.1.
      REALTIME_CONNECTIONS_PER_ADDRESS: '1000000',
    },
    nodeArgs: options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [],
  });
  await waitForHealth(child, `http://127.0.0.1:${port}/health`);
  return {
    label: 'realtime gateway',
    pid: child.pid!,
    socket: (room, n) => ({ url: `ws://127.0.0.1:${port}/ws?device=bench-${n}`, join: JSON.stringify({ type: 'join', streamId: room }) }),
    async publish(room, text) {
      await publishChatEvent(nats, { kind: 'message', streamId: room, userId, username: 'bench', text, sentAt: new Date().toISOString() });
    },
    // SIGTERM is the gateway's graceful shutdown, which also writes the CPU profile.
    stop: () => stopChild(child, 'SIGTERM', 20_000),
  };
}

async function waitForHealth(child: ChildProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}) while starting; see its output above`);
    const res = await fetch(url).catch(() => undefined);
    if (res?.ok) return;
    await sleep(200);
  }
  throw new Error(`the gateway did not answer ${url} within ${timeoutMs} ms`);
}
