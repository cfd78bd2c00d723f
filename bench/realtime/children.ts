import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { repoRoot } from '../../scripts/stack/paths.ts';

// Child processes of the realtime bench (servers under test, client fleets) and what /proc
// says about them and the machine. Every child is killed when the bench exits, however it exits.

const running = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.on('exit', killChildren);

/** A TypeScript entrypoint (relative to the repository) in its own Node process, with IPC. */
export function startChild(entry: string, args: string[], options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): ChildProcess {
  const child = fork(entry, args, {
    cwd: repoRoot,
    env: options.env ?? process.env,
    execArgv: options.nodeArgs ?? [],
    // Their logs go to stderr so that stdout stays the bench's report.
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** The child's next IPC message of `type`; rejects if the child exits first or takes too long. */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message?.type !== type) return;
      done();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`child ${child.pid} exited (${signal ?? code}) while the bench waited for "${type}"`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child ${child.pid} sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode, child.signalCode);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Asks a child to stop (a signal, or closing its IPC channel, on which our own children exit
 * cleanly), then insists: one still running after `graceMs` is killed.
 */
export async function stopChild(child: ChildProcess, how: NodeJS.Signals | 'disconnect' = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (how === 'disconnect') child.disconnect();
  else child.kill(how);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const readProc = (pid: number, file: string): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
};

export function rssBytes(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status') ?? '')?.[1];
  return kib ? Number(kib) * 1024 : 0;
}

// USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readProc(pid, 'stat');
  if (!stat) return 0;
  // Fields after the parenthesised command name (which may hold spaces); utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Jiffies all cores spent busy and in total since boot (/proc/stat's first line). */
export function hostCpuJiffies(): { busy: number; total: number } {
  const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = times.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Samples a process's resident memory until stopped; returns the peak. */
export function watchPeakRss(pid: number, everyMs = 200): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}
