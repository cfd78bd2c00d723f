import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb } from '../lib/db.ts';
import { connectNats, ensureJetStream } from '../lib/nats.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { killChildren } from './realtime/children.ts';
import { deleteJetStream, deleteStreams, insertLiveStreams } from './realtime/fixtures.ts';
import { runPhase, type PhaseResult, type Room } from './realtime/phase.ts';
import { profilesIn, topSelfTime } from './realtime/profile.ts';
import { startBareServer, startGateway } from './realtime/servers.ts';

// Chat fan-out of the realtime gateway at the load: N viewer sockets (default
// 10,000), half of them in one stream receiving 20 messages/s, the other half spread over
// four streams receiving 1 message/s each. Messages go in through JetStream as the API's
// chat does (publishChatEvent), and each viewer measures send → receive latency. Next to it,
// in the same run with the same clients and layout, a bare `ws` server broadcasting from
// core NATS. Servers and client fleets run in their own processes (one process would
// exceed the fd limit, and /proc gives each server's memory and CPU).
// Needs Postgres and NATS of the local stack, migrated and seeded.
// Usage: npm run bench -- realtime [sockets=10000] [seconds=20] [big stream msg/s=20] [--cpu-prof]
// (--cpu-prof: the gateway's profile, summarised at the end; a lower rate shows latency
// below the point where the server and its clients saturate the machine's cores.)

const SMALL_ROOMS = 4;
const SMALL_ROOM_RATE = 1;
const SOCKETS_PER_CLIENT_PROCESS = 5000;
const CONNECT_CONCURRENCY = 200;
const WARMUP_SECONDS = 3;

const say = (line = '') => process.stdout.write(`${line}\n`);

function layout(sockets: number, streamIds: string[], bigRoomRate: number): Room[] {
  const big = Math.ceil(sockets / 2);
  const small = sockets - big;
  return streamIds.map((id, i) => ({
    id,
    sockets: i === 0 ? big : Math.floor(small / SMALL_ROOMS) + (i - 1 < small % SMALL_ROOMS ? 1 : 0),
    messagesPerSecond: i === 0 ? bigRoomRate : SMALL_ROOM_RATE,
  }));
}

export async function benchRealtime(args: string[]): Promise<void> {
  const cpuProfile = args.includes('--cpu-prof');
  const [sockets = 10_000, seconds = 20, rate = 20] = args.filter((a) => !a.startsWith('--')).map(Number);
  if (!(Number.isInteger(sockets) && sockets >= SMALL_ROOMS + 1 && seconds > 0 && rate > 0)) {
    throw new Error('Usage: npm run bench -- realtime [sockets ≥ 5] [seconds > 0] [big stream msg/s > 0] [--cpu-prof]');
  }
  const { config, env } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const db = createDb({ url: config.postgres.url, poolMax: 2, applicationName: 'bench-realtime' });
  // Its own subject prefix, hence its own JetStream streams and KV bucket, removed at the end.
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: `bench${tag}.`, name: 'bench-realtime' });
  const interrupt = new AbortController();
  const onSigint = () => {
    say('\ninterrupted; stopping the child processes and cleaning up (Ctrl-C again to quit at once)');
    interrupt.abort();
    killChildren();
  };
  process.once('SIGINT', onSigint);
  let streamIds: string[] = [];
  try {
    const streams = await insertLiveStreams(db, 1 + SMALL_ROOMS, tag);
    streamIds = streams.streamIds;
    const rooms = layout(sockets, streamIds, rate);
    const options = {
      seconds,
      warmupSeconds: WARMUP_SECONDS,
      clientProcesses: Math.max(2, Math.ceil(sockets / SOCKETS_PER_CLIENT_PROCESS)),
      concurrency: CONNECT_CONCURRENCY,
      signal: interrupt.signal,
    };
    say(
      `realtime: ${sockets} sockets in ${options.clientProcesses} client processes, ${os.availableParallelism()} cores; ` +
        `1 stream with ${rooms[0]!.sockets} viewers at ${rate} msg/s, ${SMALL_ROOMS} with ${rooms[1]!.sockets} at ` +
        `${SMALL_ROOM_RATE} msg/s each; ${seconds} s measured after ${WARMUP_SECONDS} s of warm-up`,
    );

    const bare = await runPhase(() => startBareServer(nats, config.nats.url), rooms, options);
    await ensureJetStream(nats, nats.subject(''));
    const profileDir = cpuProfile ? mkdtempSync(path.join(os.tmpdir(), 'streamhub-realtime-profile-')) : undefined;
    const gateway = await runPhase(() => startGateway({ env, nats, userId: streams.ownerId, cpuProfileDir: profileDir }), rooms, options);

    printResults([bare, gateway]);
    if (profileDir) printProfiles(profileDir);
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
    await deleteStreams(db, streamIds);
    await deleteJetStream(nats);
    await nats.connection.close();
    await db.destroy();
  }
}

function printResults(rows: PhaseResult[]): void {
  const columns: [string, number, (r: PhaseResult) => string][] = [
    ['server', 20, (r) => r.label],
    ['sockets', 8, (r) => String(r.ready)],
    ['dropped', 8, (r) => String(r.dropped)],
    ['conn s', 7, (r) => r.connectSeconds.toFixed(1)],
    ['msgs', 6, (r) => String(r.sent)],
    ['expected', 9, (r) => String(r.expected)],
    ['delivered', 10, (r) => String(r.delivered)],
    ['deliv %', 8, (r) => ((100 * r.delivered) / Math.max(1, r.expected)).toFixed(1)],
    ['frames/s', 9, (r) => r.framesPerSecond.toFixed(0)],
    ['p50 ms', 8, (r) => r.p50Ms.toFixed(1)],
    ['p99 ms', 9, (r) => r.p99Ms.toFixed(1)],
    ['max ms', 8, (r) => r.maxMs.toFixed(0)],
    ['RSS MiB', 8, (r) => (r.peakRssBytes / 2 ** 20).toFixed(0)],
    ['KiB/sock', 9, (r) => ((r.peakRssBytes - r.idleRssBytes) / 1024 / Math.max(1, r.ready)).toFixed(1)],
    ['CPU s', 7, (r) => r.serverCpuSeconds.toFixed(1)],
    ['µs/frame', 9, (r) => ((1e6 * r.serverCpuSeconds) / Math.max(1, r.delivered)).toFixed(1)],
    ['cli CPU s', 10, (r) => r.clientCpuSeconds.toFixed(1)],
    ['host %', 7, (r) => (100 * r.hostBusy).toFixed(0)],
  ];
  const line = (cells: string[]) => say(cells.map((c, i) => (i ? c.padStart(columns[i]![1]) : c.padEnd(columns[i]![1]))).join(''));
  say('\nrealtime chat fan-out: the same clients and layout against each server, in the same run');
  line(columns.map(([title]) => title));
  for (const row of rows) line(columns.map(([, , cell]) => cell(row)));
  say(
    'RSS: server peak, and above its idle RSS per socket. CPU s: the server, that per delivered frame, the clients. ' +
      'host %: all cores busy, every process. CPU figures cover the measured window and the wait for late frames.',
  );
  const [bare, gateway] = rows as [PhaseResult, PhaseResult];
  const ratio = (100 * gateway.framesPerSecond) / bare.framesPerSecond;
  say(
    `\ngateway / bare throughput: ${ratio.toFixed(0)}% (target ≥ 70%); p99 gateway ${gateway.p99Ms.toFixed(1)} ms, ` +
      `bare ${bare.p99Ms.toFixed(1)} ms (target ≤ 100 ms)`,
  );
  if (Math.max(bare.hostBusy, gateway.hostBusy) > 0.9) {
    say('The cores were (nearly) saturated: servers and clients share them, so latency includes waiting for a core.');
  }
}

function printProfiles(dir: string): void {
  for (const file of profilesIn(dir)) {
    say(`\ngateway CPU profile ${file} (open in Chrome DevTools); top self time:`);
    for (const { what, ms, share } of topSelfTime(file)) say(`${(share * 100).toFixed(1).padStart(6)}% ${ms.toFixed(0).padStart(7)} ms  ${what}`);
  }
}
