import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from './context.ts';
import { until } from './gateway.ts';
import { freePort } from './ports.ts';

// The production entrypoints (`api/server.ts`, `realtime/server.ts`) as processes of their own
// on this file's resources, for claims about several processes and for SIGKILLs.

export interface ServiceProcess {
  child: ChildProcess;
  /** `127.0.0.1:<port>` */
  host: string;
  /** SIGKILL, as an OOM kill or `docker kill` would; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful shutdown); resolves once it is gone. */
  stop(): Promise<void>;
}

// A test that fails before it stops a process must not leave it serving.
const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Environment for a StreamHub process on this file's database, Mongo database, S3 prefix, NATS prefix and task queues. */
export function serviceEnv(ctx: TestContext, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const { config } = ctx;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'error',
    DATABASE_URL: config.postgres.url,
    MONGO_DATABASE: config.mongo.database,
    S3_KEY_PREFIX: config.s3.keyPrefix,
    NATS_SUBJECT_PREFIX: config.nats.subjectPrefix,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    TEMPORAL_MEDIA_TASK_QUEUE: config.temporal.mediaTaskQueue,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function spawnService(entry: string, env: NodeJS.ProcessEnv, port: number, what: string): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  const host = `127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (exited(child)) return;
    const gone = once(child, 'exit');
    child.kill(signal);
    await gone;
  };
  // The deadline is only for a start that is broken: a loaded machine can take over a minute.
  await until(async () => {
    if (exited(child)) throw new Error(`${what} exited while starting (${child.exitCode ?? child.signalCode})`);
    return fetch(`http://${host}/health`).then((res) => res.ok, () => false);
  }, `${what} to answer /health`, 180_000);
  return { child, host, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/**
 * `api/server.ts` in its own process (on `port`, or a free one). Overrides replace (or, as undefined, remove) variables of
 * the test environment: without RATE_LIMIT_* the process runs on the defaults the README states.
 */
export async function spawnApiProcess(ctx: TestContext, overrides: Record<string, string | undefined> = {}, port?: number): Promise<ServiceProcess> {
  port ??= await freePort();
  return spawnService('api/server.ts', serviceEnv(ctx, { API_PORT: String(port), ...overrides }), port, 'api/server.ts');
}

/** `realtime/server.ts` (a gateway, with its chat archiver) in its own process. */
export async function spawnGatewayProcess(ctx: TestContext, overrides: Record<string, string | undefined> = {}, port?: number): Promise<ServiceProcess> {
  port ??= await freePort();
  return spawnService('realtime/server.ts', serviceEnv(ctx, { REALTIME_PORT: String(port), ...overrides }), port, 'realtime/server.ts');
}
