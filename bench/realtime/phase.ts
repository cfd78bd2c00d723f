import type { ChildProcess } from 'node:child_process';
import { sleep } from '../../lib/async.ts';
import { cpuSeconds, hostCpuJiffies, nextMessage, rssBytes, startChild, stopChild, watchPeakRss } from './children.ts';
import { LatencyHistogram, wallClockMs, type FromClients, type SocketPlan, type ToClients } from './protocol.ts';
import type { ServerUnderTest } from './servers.ts';

// One measured run against one server: connect and join every socket, send chat on a fixed
// timetable through a warm-up and the measured window, wait for stragglers, collect.

export interface Room {
  id: string;
  sockets: number;
  messagesPerSecond: number;
}

export interface PhaseOptions {
  seconds: number;
  warmupSeconds: number;
  clientProcesses: number;
  /** Sockets connecting at once, over all client processes. */
  concurrency: number;
  /** Stops sending at once (Ctrl-C); waiting on the clients, killed meanwhile, then ends the phase. */
  signal: AbortSignal;
}

export interface PhaseResult {
  label: string;
  ready: number;
  connectSeconds: number;
  sent: number;
  expected: number;
  delivered: number;
  framesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  dropped: number;
  /** Before any socket connected, and the highest seen while the phase ran. */
  idleRssBytes: number;
  peakRssBytes: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  /** Share of all cores busy (every process) over the window: near 1, the machine was the limit. */
  hostBusy: number;
}

type Reply<T extends FromClients['type']> = Extract<FromClients, { type: T }>;

const say = (line: string) => process.stdout.write(`${line}\n`);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function ask<T extends FromClients['type']>(client: ChildProcess, message: ToClients, type: T, timeoutMs?: number): Promise<Reply<T>> {
  const reply = nextMessage<Reply<T>>(client, type, timeoutMs);
  client.send(message);
  return reply;
}

export async function runPhase(start: () => Promise<ServerUnderTest>, rooms: Room[], options: PhaseOptions): Promise<PhaseResult> {
  const server = await start();
  const idleRssBytes = rssBytes(server.pid);
  const rss = watchPeakRss(server.pid);
  const clients = Array.from({ length: options.clientProcesses }, () => startChild('bench/realtime/clients.ts', []));
  try {
    // Round-robin, so that every client process holds its share of every room.
    const plans: SocketPlan[][] = clients.map(() => []);
    let n = 0;
    rooms.forEach((room, r) => {
      for (let i = 0; i < room.sockets; i++, n++) plans[n % clients.length]!.push({ room: r, ...server.socket(room.id, n) });
    });
    const connectStarted = performance.now();
    const concurrency = Math.ceil(options.concurrency / clients.length);
    const readies = await Promise.all(clients.map((c, i) => ask(c, { type: 'connect', sockets: plans[i]!, concurrency }, 'ready', 600_000)));
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const joined = rooms.map((_, r) => sum(readies.map((x) => x.joinedPerRoom[r] ?? 0)));
    const failed = sum(readies.map((x) => x.failed));
    const firstError = readies.find((x) => x.firstError)?.firstError;
    say(`  ${server.label}: ${sum(joined)} sockets ready in ${connectSeconds.toFixed(1)} s${failed ? `, ${failed} failed (${firstError})` : ''}`);

    const fromMs = wallClockMs() + options.warmupSeconds * 1000;
    const toMs = fromMs + options.seconds * 1000;
    for (const c of clients) c.send({ type: 'window', fromMs, toMs } satisfies ToClients);
    const sending = sendOnTimetable(server, rooms, fromMs, toMs, options.signal);
    await sleep(fromMs - wallClockMs());
    const pids = [server.pid, ...clients.map((c) => c.pid!)];
    const cpuAtStart = pids.map(cpuSeconds);
    const hostAtStart = hostCpuJiffies();
    const sent = await sending;
    options.signal.throwIfAborted();
    const expected = sum(sent.inWindow.map((count, r) => count * joined[r]!));
    await drain(clients, expected);
    const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpuAtStart[i]!);
    const host = hostCpuJiffies();
    const reports = await Promise.all(clients.map((c) => ask(c, { type: 'report' }, 'report')));

    const histogram = new LatencyHistogram();
    for (const r of reports) histogram.merge(r.histogram, r.maxMs);
    const lastReceiveMs = Math.max(...reports.map((r) => r.lastReceiveMs));
    // Over the time the frames took to arrive, so a server that falls behind is not flattered.
    const deliverySeconds = Math.max(options.seconds, (lastReceiveMs - fromMs) / 1000);
    if (sent.failures) say(`  ${sent.failures} publishes failed (${sent.firstError})`);
    return {
      label: server.label,
      ready: sum(joined),
      connectSeconds,
      sent: sum(sent.inWindow),
      expected,
      delivered: histogram.count,
      framesPerSecond: histogram.count / deliverySeconds,
      p50Ms: histogram.percentile(50),
      p99Ms: histogram.percentile(99),
      maxMs: histogram.maxMs,
      dropped: sum(reports.map((r) => r.dropped)),
      idleRssBytes,
      peakRssBytes: rss.stop(),
      serverCpuSeconds: cpu[0]!,
      clientCpuSeconds: sum(cpu.slice(1)),
      hostBusy: (host.busy - hostAtStart.busy) / (host.total - hostAtStart.total),
    };
  } finally {
    rss.stop();
    await Promise.all(clients.map((c) => stopChild(c, 'disconnect')));
    await server.stop();
  }
}

/**
 * Every room on its own fixed timetable from now until `toMs` (no drift from slow sends),
 * rooms offset from each other so their sends do not bunch up. Counts the messages of the
 * measured window per room; the send time travels in the message text.
 */
async function sendOnTimetable(server: ServerUnderTest, rooms: Room[], fromMs: number, toMs: number, signal: AbortSignal) {
  const inWindow = rooms.map(() => 0);
  let failures = 0;
  let firstError: string | undefined;
  const pending = new Set<Promise<void>>();
  const begin = wallClockMs();
  const due = rooms.map((room, r) => (room.messagesPerSecond > 0 ? begin + ((r / rooms.length) * 1000) / room.messagesPerSecond : Infinity));
  for (;;) {
    const r = due.indexOf(Math.min(...due));
    if (due[r]! >= toMs || signal.aborted) break;
    await sleep(Math.max(0, due[r]! - wallClockMs()));
    const text = String(wallClockMs());
    const sentAt = Number(text);
    const publish = server.publish(rooms[r]!.id, text).then(
      () => {
        if (sentAt >= fromMs && sentAt < toMs) inWindow[r]!++;
      },
      (err: Error) => {
        failures++;
        firstError ??= err.message;
      },
    );
    pending.add(publish);
    void publish.finally(() => pending.delete(publish));
    due[r]! += 1000 / rooms[r]!.messagesPerSecond;
  }
  await Promise.all(pending);
  return { inWindow, failures, firstError };
}

/** Waits until every expected frame arrived, or until nothing more arrives for a few seconds. */
async function drain(clients: ChildProcess[], expected: number, quietMs = 3000, maxMs = 30_000): Promise<void> {
  const started = performance.now();
  let last = -1;
  let lastChange = started;
  for (;;) {
    const delivered = sum((await Promise.all(clients.map((c) => ask(c, { type: 'progress' }, 'progress')))).map((p) => p.delivered));
    const now = performance.now();
    if (delivered >= expected || now - started > maxMs) return;
    if (delivered !== last) {
      last = delivered;
      lastChange = now;
    } else if (now - lastChange > quietMs) return;
    await sleep(250);
  }
}
