import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { sleep } from '../../lib/async.ts';
import { repoRoot } from '../../scripts/stack/paths.ts';

// StreamHub's own API entrypoint (`api/server.ts`) in a process of its own, for benches that
// load it over real HTTP.

/** The real API entrypoint in its own process; its log lines go to a file, as under `npm start`. */
export function startApi(options: { env: Record<string, string | undefined>; logFile: string; profileDir?: string }): ChildProcess {
  const log = openSync(options.logFile, 'a');
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, 'api/server.ts'], { cwd: repoRoot, env: options.env, stdio: ['ignore', log, log] });
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

export async function waitUntilServing(child: ChildProcess, url: string, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}) while starting; the end of its log:\n${logTail(logFile)}`);
    const res = await fetch(url).catch(() => undefined);
    if (res?.ok) return;
    await sleep(250);
  }
  throw new Error(`the API did not answer ${url} within ${timeoutMs} ms; see ${logFile}`);
}

/** The last lines of a log, for an error that outlives the bench's scratch directory. */
function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${logFile})`;
  }
}
