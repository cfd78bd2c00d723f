import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../lib/async.ts';
import type { Config } from '../../lib/config.ts';
import { renderNginxConfig } from './nginx.ts';
import { binaries, dataDir, logsDir, runDir, stackDir } from './paths.ts';
import {
  mailpitReady,
  minioReady,
  mongoReady,
  natsReady,
  nginxReady,
  portAnswers,
  postgresReady,
  stripeMockReady,
  temporalReady,
} from './probes.ts';

export interface StackPorts {
  temporalUi: number;
  rtmp: number;
  hlsHttp: number;
  rtmpControl: number;
  minioConsole: number;
  /** mailpit's web UI and HTTP API. */
  mailpitUi: number;
}

interface Launch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  prepare?: () => void;
}

export interface ServiceSpec {
  id: string;
  name: string;
  host: string;
  port: number;
  /** The variable that points StreamHub elsewhere when this port belongs to something else. */
  envVar: string;
  ready: () => Promise<boolean>;
  /** Undefined when this machine cannot run the service itself (it must already be running). */
  launch: (() => Launch) | undefined;
  readyTimeoutMs: number;
}

export class ServiceError extends Error {
  readonly service: string;
  readonly logFile?: string;

  constructor(service: string, message: string, logFile?: string) {
    super(logFile ? `${service}: ${message}\n  log: ${logFile}` : `${service}: ${message}`);
    this.name = 'ServiceError';
    this.service = service;
    this.logFile = logFile;
  }
}

export interface StartedService {
  spec: ServiceSpec;
  child: ChildProcess;
  logFile: string;
}

const hostPort = (address: string) => {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
};

const isRoot = () => process.getuid?.() === 0;

export function findPostgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(base, v, 'bin')).find((dir) => existsSync(path.join(dir, 'postgres')));
}

/** Postgres refuses to run as root, so under root the cluster belongs to the `postgres` user. */
function postgresLaunch(port: number, host: string): (() => Launch) | undefined {
  const bin = findPostgresBin();
  if (!bin) return undefined;
  const dir = path.join(dataDir, 'postgres');
  const asPostgres = (command: string, args: string[]): Launch =>
    isRoot() ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] } : { command, args };
  return () => ({
    ...asPostgres(path.join(bin, 'postgres'), ['-D', dir, '-p', String(port), '-k', runDir, '-c', `listen_addresses=${host}`]),
    prepare: () => {
      if (existsSync(path.join(dir, 'PG_VERSION'))) return;
      mkdirSync(dir, { recursive: true });
      mkdirSync(runDir, { recursive: true });
      if (isRoot()) {
        const { uid, gid } = lookupUser('postgres');
        chownSync(dir, uid, gid);
        chownSync(runDir, uid, gid);
      }
      const init = asPostgres(path.join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
      execFileSync(init.command, init.args, { stdio: 'ignore' });
    },
  });
}

export function lookupUser(name: string): { uid: number; gid: number } {
  const passwd = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':');
  return { uid: Number(passwd[2]), gid: Number(passwd[3]) };
}

/** Every service the platform needs, with how to check it and how to start it here. */
export function serviceSpecs(config: Config, ports: StackPorts, secrets: { internalSecret: string }): ServiceSpec[] {
  const pg = hostPort(config.postgres.url);
  const nats = hostPort(config.nats.url);
  const temporal = hostPort(config.temporal.address);
  const s3 = hostPort(config.s3.endpoint);
  const mongo = hostPort(config.mongo.url);
  const adminPostgresUrl = (() => {
    const url = new URL(config.postgres.url);
    url.pathname = '/postgres';
    return url.toString();
  })();

  return [
    {
      id: 'postgres',
      name: 'PostgreSQL',
      ...pg,
      envVar: 'DATABASE_URL',
      ready: () => postgresReady(adminPostgresUrl),
      launch: postgresLaunch(pg.port, pg.host),
      readyTimeoutMs: 30_000,
    },
    {
      id: 'nats',
      name: 'NATS (JetStream)',
      ...nats,
      envVar: 'NATS_URL',
      ready: () => natsReady(config.nats.url),
      launch: existsSync('/usr/sbin/nats-server') || existsSync('/usr/bin/nats-server')
        ? () => ({
            command: 'nats-server',
            args: ['-a', nats.host, '-p', String(nats.port), '-js', '-sd', path.join(dataDir, 'nats')],
          })
        : undefined,
      readyTimeoutMs: 15_000,
    },
    {
      id: 'temporal',
      name: 'Temporal dev server',
      ...temporal,
      envVar: 'TEMPORAL_ADDRESS',
      ready: () => temporalReady(config.temporal.address),
      launch: () => ({
        command: binaries.temporal,
        args: [
          'server', 'start-dev',
          '--db-filename', path.join(dataDir, 'temporal.db'),
          '--ip', temporal.host,
          '--port', String(temporal.port),
          '--ui-port', String(ports.temporalUi),
          '--log-format', 'json',
          '--log-level', 'warn',
          // A single-process server gains nothing from spreading a task queue over the default
          // four partitions, and a commit need not wait for the disk (WAL, synchronous=NORMAL: a
          // power loss may lose the last commits, never corrupt the file). Together they cut
          // the server's CPU in the test suite by about a third (README, Development).
          '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
          '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
          '--sqlite-pragma', 'journal_mode=wal',
          '--sqlite-pragma', 'synchronous=normal',
        ],
      }),
      readyTimeoutMs: 60_000,
    },
    {
      id: 'minio',
      name: 'MinIO (S3)',
      ...s3,
      envVar: 'S3_ENDPOINT',
      ready: () => minioReady(config.s3.endpoint),
      launch: () => ({
        command: binaries.minio,
        args: [
          'server', path.join(dataDir, 'minio'),
          '--address', `${s3.host}:${s3.port}`,
          '--console-address', `${s3.host}:${ports.minioConsole}`,
          '--quiet',
        ],
        env: {
          MINIO_ROOT_USER: config.s3.accessKeyId,
          MINIO_ROOT_PASSWORD: config.s3.secretAccessKey,
          MINIO_UPDATE: 'off',
        },
      }),
      readyTimeoutMs: 30_000,
    },
    {
      id: 'ferretdb',
      name: 'FerretDB (Mongo wire protocol)',
      ...mongo,
      envVar: 'MONGO_URL',
      ready: () => mongoReady(config.mongo.url),
      launch: () => ({
        command: binaries.ferretdb,
        args: [
          '--handler=sqlite',
          `--sqlite-url=file:${path.join(dataDir, 'ferretdb')}/`,
          `--state-dir=${path.join(dataDir, 'ferretdb-state')}`,
          `--listen-addr=${mongo.host}:${mongo.port}`,
          '--debug-addr=127.0.0.1:0',
          '--telemetry=disable',
          '--log-format=json',
          '--log-level=WARN',
        ],
        prepare: () => {
          mkdirSync(path.join(dataDir, 'ferretdb'), { recursive: true });
          mkdirSync(path.join(dataDir, 'ferretdb-state'), { recursive: true });
        },
      }),
      readyTimeoutMs: 20_000,
    },
    ...stripeMockSpecs(config),
    ...mailpitSpecs(config, ports),
    {
      id: 'nginx',
      name: 'nginx-rtmp',
      host: '127.0.0.1',
      port: ports.rtmp,
      envVar: 'RTMP_PORT',
      ready: () => nginxReady(`http://127.0.0.1:${ports.hlsHttp}`),
      launch: () => {
        const prefix = path.join(stackDir, 'nginx');
        return {
          command: 'nginx',
          args: ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')],
          prepare: () => {
            mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
            for (const dir of [config.rtmpHlsDir, config.rtmpRecordingsDir]) mkdirSync(dir, { recursive: true });
            const conf = renderNginxConfig({
              prefix,
              // The media workers take live thumbnails from the same directory.
              hlsDir: config.rtmpHlsDir,
              // The API and the workers check recordings against the same directory.
              recordingsDir: config.rtmpRecordingsDir,
              listenHost: '127.0.0.1',
              rtmpPort: ports.rtmp,
              httpPort: ports.hlsHttp,
              controlPort: ports.rtmpControl,
              controlAllow: ['127.0.0.1'],
              apiUrl: `http://${config.api.host}:${config.api.port}`,
              internalSecret: secrets.internalSecret,
              runAsUser: isRoot() ? 'root' : undefined,
            });
            writeFileSync(path.join(prefix, 'nginx.conf'), conf);
          },
        };
      },
      readyTimeoutMs: 10_000,
    },
  ];
}


/**
 * stripe-mock, when the Stripe client is pointed at this machine (the local stack's default).
 * Pointed at Stripe itself (or payments off), there is nothing to start.
 */
function stripeMockSpecs(config: Config): ServiceSpec[] {
  const baseUrl = config.payments.stripe?.apiBaseUrl;
  if (!baseUrl) return [];
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(url.hostname)) return [];
  const host = '127.0.0.1';
  const port = Number(url.port || 80);
  return [
    {
      id: 'stripe-mock',
      name: 'stripe-mock (Stripe API)',
      host,
      port,
      envVar: 'STRIPE_API_BASE_URL',
      ready: () => stripeMockReady(baseUrl),
      launch: () => ({
        command: binaries.stripeMock,
        // HTTPS is on by default unless HTTP is asked for by port; keep it on loopback, any port.
        args: ['-http-addr', `${host}:${port}`, '-https-addr', '127.0.0.1:0'],
      }),
      readyTimeoutMs: 20_000,
    },
  ];
}

/**
 * mailpit, when mail goes to an SMTP server on this machine (the local stack's default): it
 * takes every message and shows it at its UI port. Pointed elsewhere, there is nothing to start.
 * Its messages live in a temporary database that goes with the process: nothing to clean up.
 */
function mailpitSpecs(config: Config, ports: StackPorts): ServiceSpec[] {
  const url = new URL(config.mail.smtpUrl);
  if (url.protocol !== 'smtp:' || !['127.0.0.1', 'localhost'].includes(url.hostname)) return [];
  const host = '127.0.0.1';
  const port = Number(url.port || 25);
  const uiBaseUrl = `http://${host}:${ports.mailpitUi}`;
  return [
    {
      id: 'mailpit',
      name: 'mailpit (SMTP)',
      host,
      port,
      envVar: 'SMTP_URL',
      ready: () => mailpitReady(uiBaseUrl),
      launch: () => ({
        command: binaries.mailpit,
        args: [
          '--smtp', `${host}:${port}`,
          '--listen', `${host}:${ports.mailpitUi}`,
          '--disable-version-check',
        ],
      }),
      readyTimeoutMs: 20_000,
    },
  ];
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, stillRunning: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return 'ready' as const;
    if (!stillRunning()) return 'exited' as const;
    await sleep(250);
  }
  return 'timeout' as const;
}

function startProcess(spec: ServiceSpec, launch: Launch): StartedService {
  for (const dir of [logsDir, runDir, dataDir]) mkdirSync(dir, { recursive: true });
  launch.prepare?.();
  const logFile = path.join(logsDir, `${spec.id}.log`);
  const log = openSync(logFile, 'a');
  // Own process group: Ctrl-C reaches only the stack launcher, which stops services in order.
  // The service writes its log file itself, so it never depends on this process staying alive.
  const child = spawn(launch.command, launch.args, {
    cwd: stackDir,
    env: { ...process.env, ...launch.env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  child.unref();
  if (child.pid) writeFileSync(path.join(runDir, `${spec.id}.pid`), String(child.pid));
  return { spec, child, logFile };
}

/**
 * Reuses every service that already answers and starts the rest, all in parallel. On any
 * failure it stops what it started and throws a ServiceError naming the service and its log.
 */
export async function ensureServices(
  specs: ServiceSpec[],
  report: (line: string) => void,
): Promise<StartedService[]> {
  const started: StartedService[] = [];
  const results = await Promise.allSettled(
    specs.map(async (spec) => {
      const where = `${spec.host}:${spec.port}`;
      if (await portAnswers(spec.host, spec.port)) {
        // Up to 15 s: while the other services start (big binaries paging in), a busy machine
        // can keep a reused one from answering its probe for seconds (seen with PostgreSQL).
        if (await waitUntil(spec.ready, 15_000, () => true) === 'ready') {
          report(`  ${spec.name}: reusing the one at ${where}`);
          return;
        }
        throw new ServiceError(
          spec.name,
          `port ${where} is taken by a program that is not ${spec.name}; stop it or set ${spec.envVar}`,
        );
      }
      if (!spec.launch) {
        throw new ServiceError(spec.name, `nothing answers on ${where} and it is not installed here (scripts/bootstrap.sh installs it)`);
      }
      const service = startProcess(spec, spec.launch());
      started.push(service);
      let exitCode: number | null = null;
      service.child.once('exit', (code) => (exitCode = code ?? -1));
      const outcome = await waitUntil(spec.ready, spec.readyTimeoutMs, () => exitCode === null);
      if (outcome === 'exited') throw new ServiceError(spec.name, `exited with code ${exitCode} while starting`, service.logFile);
      if (outcome === 'timeout') {
        throw new ServiceError(spec.name, `not ready after ${spec.readyTimeoutMs / 1000} s`, service.logFile);
      }
      report(`  ${spec.name}: started on ${where} (log ${path.relative(process.cwd(), service.logFile)})`);
    }),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length) {
    await stopServices(started);
    throw failures[0];
  }
  return started;
}

/** SIGTERM to the child's process group, SIGKILL after a grace period; resolves once it exited. */
export async function terminateGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops services in reverse start order, each given a grace period to shut down cleanly. */
export async function stopServices(services: StartedService[], graceMs = 10_000): Promise<void> {
  for (const service of [...services].reverse()) {
    rmSync(path.join(runDir, `${service.spec.id}.pid`), { force: true });
    await terminateGroup(service.child, graceMs);
  }
}
