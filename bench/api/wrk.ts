import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

// wrk (https://github.com/wg/wrk) as the load generator: a C program with its own event
// loop, so the machine's cores go to the servers under test rather than to a JavaScript client.

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses that were not 2xx/3xx, and socket errors (connect, read, write, timeout). */
  failures: number;
}

export function wrkInstalled(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

const run = promisify(execFile);

export async function runWrk(
  url: string,
  options: {
    connections: number;
    seconds: number;
    threads: number;
    headers?: Record<string, string>;
    /** A Lua script that writes the requests (method, body, per-request headers), and its arguments. */
    script?: { path: string; args?: string[] };
    signal?: AbortSignal;
  },
): Promise<LoadResult> {
  const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const script = options.script ? ['-s', options.script.path] : [];
  const scriptArgs = options.script?.args?.length ? ['--', ...options.script.args] : [];
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--latency', ...headers, ...script, url, ...scriptArgs];
  const { stdout, stderr } = await run('wrk', args, { maxBuffer: 1 << 20, signal: options.signal });
  if (stderr) process.stderr.write(stderr); // what a script says of refused requests
  return parseWrk(stdout);
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
  if (!match) throw new Error(`wrk printed no ${percentile}% latency:\n${text}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** wrk's text report (with --latency) as numbers. */
export function parseWrk(text: string): LoadResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in/m.exec(text);
  if (!rate || !total) throw new Error(`unexpected wrk output:\n${text}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rate[1]),
    p50Ms: latencyMs(text, '50'),
    p99Ms: latencyMs(text, '99'),
    requests: Number(total[1]),
    failures: non2xx + errors,
  };
}
