import WebSocket from 'ws';
import { chatSentAt, LatencyHistogram, wallClockMs, type FromClients, type SocketPlan, type ToClients } from './protocol.ts';

// A child process holding thousands of viewer sockets (one process stays under the fd
// limit); it measures send-to-receive latency of chat frames and answers the parent over IPC.

const JOIN_TIMEOUT_MS = 30_000;
const JOINED = Buffer.from('"type":"joined"');
const ERROR = Buffer.from('"type":"error"');

const histogram = new LatencyHistogram();
let counted = { fromMs: Infinity, toMs: Infinity };
let lastReceiveMs = 0;
let dropped = 0;

const reply = (message: FromClients) => process.send!(message);

function open(plan: SocketPlan): Promise<void> {
  return new Promise((resolve, reject) => {
    let ready = false;
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(err);
    };
    const becomeReady = () => {
      ready = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => fail(new Error(`not ready within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    const socket = new WebSocket(plan.url, { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 64 * 1024 });
    socket.on('error', (err) => {
      if (!ready) fail(err);
    });
    socket.on('close', () => {
      if (ready) dropped++;
      else fail(new Error('closed before it was ready'));
    });
    socket.on('open', () => {
      if (plan.join) socket.send(plan.join);
      else becomeReady();
    });
    socket.on('message', (data: Buffer) => {
      const sentAt = chatSentAt(data);
      if (sentAt !== undefined) {
        if (sentAt < counted.fromMs || sentAt >= counted.toMs) return;
        const now = wallClockMs();
        histogram.add(now - sentAt);
        lastReceiveMs = now;
      } else if (!ready && data.indexOf(JOINED) >= 0) becomeReady();
      else if (!ready && data.indexOf(ERROR) >= 0) fail(new Error(data.toString()));
    });
  });
}

async function connectAll(plans: SocketPlan[], concurrency: number): Promise<void> {
  const joinedPerRoom: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, plans.length) }, async () => {
      while (next < plans.length) {
        const plan = plans[next++]!;
        try {
          await open(plan);
          joinedPerRoom[plan.room] = (joinedPerRoom[plan.room] ?? 0) + 1;
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  reply({ type: 'ready', joinedPerRoom: Array.from(joinedPerRoom, (n) => n ?? 0), failed, ...(firstError ? { firstError } : {}) });
}

process.on('message', (message: ToClients) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message.sockets, message.concurrency);
      break;
    case 'window':
      counted = { fromMs: message.fromMs, toMs: message.toMs };
      break;
    case 'progress':
      reply({ type: 'progress', delivered: histogram.count });
      break;
    case 'report':
      reply({ type: 'report', delivered: histogram.count, histogram: [...histogram.counts], maxMs: histogram.maxMs, lastReceiveMs, dropped });
      break;
  }
});
// The parent going away (Ctrl-C, a crash) ends this process too.
process.on('disconnect', () => process.exit(0));
