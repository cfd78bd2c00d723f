import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../lib/async.ts';
import { natsReady, postgresReady } from '../../scripts/stack/probes.ts';
import { findPostgresBin, lookupUser } from '../../scripts/stack/services.ts';
import { freePort } from './ports.ts';

// Servers a test owns outright, so it can SIGKILL and restart them without disturbing the
// shared ones every other test file uses: each on a free port, its data in a temp dir.

export interface PrivateServer {
  /**
   * SIGKILL to every process of the server at once, as an OOM kill or `docker kill` would:
   * nothing is flushed or closed cleanly. Resolves once all of them are gone.
   */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (unless it runs); resolves once it serves. */
  restart(): Promise<void>;
  /**
   * SIGSTOP to every process of it: connections stay open but nothing answers, as when its
   * host hangs or drops off the network. `thaw()` lets it go on.
   */
  freeze(): void;
  thaw(): void;
  /** Stops it for good and deletes its data; safe to call twice, or after a failed start. */
  remove(): Promise<void>;
}

// A test that fails or times out must not leave servers running or data behind.
const running = new Set<ChildProcess>();
const scratch = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const READY_TIMEOUT_MS = 30_000;

interface Launch {
  name: string;
  command: string;
  args: string[];
  /** The user the server runs as (Postgres refuses root). */
  user?: { uid: number; gid: number };
  ready: () => Promise<boolean>;
  /** Processes the server forked itself, which a crash takes down with it. */
  forked?: (pid: number) => number[];
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function privateServer(launch: Launch, dir: string): PrivateServer & { start(): Promise<void> } {
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child && !hasExited(child)) return;
    output = '';
    const started = spawn(launch.command, launch.args, { uid: launch.user?.uid, gid: launch.user?.gid, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    // The tail of what it said, for the error when it does not come up.
    const keep = (data: Buffer) => (output = (output + data.toString()).slice(-4000));
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await launch.ready())) {
      if (hasExited(started)) throw new Error(`${launch.name} exited while starting:\n${output}`);
      if (Date.now() > deadline) throw new Error(`${launch.name} not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
      await sleep(100);
    }
  }

  async function kill(): Promise<void> {
    const target = child;
    if (!target?.pid || hasExited(target)) return;
    const exited = once(target, 'exit');
    // Stopped first, so it cannot fork a new process between listing its children and the kill.
    process.kill(target.pid, 'SIGSTOP');
    const forked = launch.forked?.(target.pid) ?? [];
    for (const pid of [target.pid, ...forked]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await exited;
    // Forked processes now belong to init; they are gone once they are no more than zombies.
    while (forked.some(isAlive)) await sleep(20);
  }

  let frozen: number[] = [];

  return {
    start,
    kill,
    restart: start,
    freeze() {
      const pid = child?.pid;
      if (!pid || hasExited(child!)) throw new Error(`${launch.name} is not running`);
      process.kill(pid, 'SIGSTOP');
      frozen = [pid, ...(launch.forked?.(pid) ?? [])];
      for (const p of frozen) process.kill(p, 'SIGSTOP');
    },
    thaw() {
      for (const p of frozen) if (isAlive(p)) process.kill(p, 'SIGCONT');
      frozen = [];
    },
    async remove() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      scratch.delete(dir);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function makeScratch(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.add(dir);
  return dir;
}

/** Starts a private server; one that fails to start leaves no process or directory behind. */
async function startOrRemove(server: ReturnType<typeof privateServer>): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    await server.remove();
    throw err;
  }
}

/** A nats-server of its own with JetStream on file storage, like production's. */
export async function startPrivateNats(): Promise<PrivateServer & { url: string }> {
  const dir = makeScratch('streamhub-nats-');
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const server = privateServer(
    { name: 'nats-server', command: 'nats-server', args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], ready: () => natsReady(url) },
    dir,
  );
  await startOrRemove(server);
  return { ...server, url };
}

/**
 * A Postgres cluster of its own (initdb in a temp dir), with trust auth for `postgres` on
 * 127.0.0.1. As root the cluster belongs to the `postgres` user, as the local stack's does.
 */
export async function startPrivatePostgres(): Promise<PrivateServer & { url(database?: string): string }> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('no Postgres server binaries under /usr/lib/postgresql (scripts/bootstrap.sh installs them)');
  const dir = makeScratch('streamhub-pg-');
  const user = process.getuid?.() === 0 ? lookupUser('postgres') : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    uid: user?.uid,
    gid: user?.gid,
    stdio: 'pipe',
  });
  const port = await freePort();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const server = privateServer(
    {
      name: 'postgres',
      command: path.join(bin, 'postgres'),
      // fsync only matters when the machine goes down; a killed process loses nothing the kernel has.
      args: ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=50', '-c', 'shared_buffers=16MB'],
      user,
      ready: () => postgresReady(url()),
      forked: childrenOf,
    },
    dir,
  );
  await startOrRemove(server);
  return { ...server, url };
}

export interface Link {
  /** Where clients connect instead of the server. */
  port: number;
  /** Drops every connection through the link and resets new ones at once, as a network partition would. */
  cut(): void;
  mend(): void;
  /**
   * Stops forwarding in both directions, on open connections and new ones, without closing
   * anything: requests sent now reach the server only after `release()`, as when the network
   * to it stalls.
   */
  hold(): void;
  /**
   * Lets requests through but holds the server's answers on any connection that carried a
   * request whose bytes `matches` (its request line, say): the server acts on the request and
   * the client never hears that it did, until `release()`. Resolves `held` once one matched.
   */
  holdAnswersTo(matches: (request: string) => boolean): void;
  /** A promise for the first request holdAnswersTo matched. */
  held: Promise<void>;
  /** Forwards what was held and stops holding. */
  release(): void;
  close(): Promise<void>;
}

interface Pipe {
  /** Bytes waiting while the direction is held. */
  waiting: Buffer[];
  held: boolean;
}

/** A TCP link from clients to a server that a test can cut, mend and stall. */
export async function startLink(target: { host: string; port: number }): Promise<Link> {
  let isCut = false;
  let holdingAll = false;
  let answersMatching: ((request: string) => boolean) | undefined;
  let matched = () => {};
  const held = new Promise<void>((resolve) => (matched = resolve));
  const sockets = new Set<Socket>();
  const pipes = new Set<{ pipe: Pipe; to: Socket }>();

  const forward = (from: Socket, to: Socket, pipe: Pipe, inspect?: (chunk: Buffer) => void) => {
    from.on('data', (chunk: Buffer) => {
      inspect?.(chunk);
      if (pipe.held || holdingAll) pipe.waiting.push(chunk);
      else to.write(chunk);
    });
    from.on('error', () => to.destroy());
    const entry = { pipe, to };
    from.on('close', () => {
      to.destroy();
      sockets.delete(from);
      pipes.delete(entry);
    });
    sockets.add(from);
    pipes.add(entry);
  };

  const server = createServer((client) => {
    if (isCut) return void client.destroy();
    const upstream = connect(target);
    const requests: Pipe = { waiting: [], held: false };
    const answers: Pipe = { waiting: [], held: false };
    // A request line can straddle two chunks: match on the tail of the previous one too.
    let tail = '';
    forward(client, upstream, requests, (chunk) => {
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-256);
      if (answersMatching?.(text)) {
        answers.held = true;
        matched();
      }
    });
    forward(upstream, client, answers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      isCut = true;
      for (const socket of sockets) socket.destroy();
    },
    mend() {
      isCut = false;
    },
    hold() {
      holdingAll = true;
    },
    holdAnswersTo(matches) {
      answersMatching = matches;
    },
    held,
    release() {
      holdingAll = false;
      answersMatching = undefined;
      for (const { pipe, to } of pipes) {
        pipe.held = false;
        for (const chunk of pipe.waiting.splice(0)) if (!to.destroyed) to.write(chunk);
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
