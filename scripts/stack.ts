// The local stack: `npm start` runs `tsx scripts/stack.ts start` once scripts/bootstrap.sh
// has installed what was missing. It starts (or reuses) every service, provisions them,
// runs api + workers + realtime in the foreground, and stops what it started on Ctrl-C.
//   start     everything, in the foreground
//   services  only the outside services (for running api/workers yourself in watch mode)
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sleep } from '../lib/async.ts';
import { ConfigError, type Config } from '../lib/config.ts';
import { stackEnvironment, type StackEnvironment } from './stack/environment.ts';
import { lockFile, logsDir, repoRoot, runDir, stackDir } from './stack/paths.ts';
import { provisionPlatform } from './stack/provision.ts';
import { secretsFile } from './stack/secrets.ts';
import { httpApi, readyVideos, uploadDemoVideos, watchAndLike } from './stack/demo-videos.ts';
import { DEMO_PASSWORD, seedDemoComments, seedDemoData, withDemoSessions } from './stack/seed.ts';
import { ensureWebBuild } from './stack/web-build.ts';
import { ensureServices, serviceSpecs, ServiceError, stopServices, terminateGroup, type StartedService } from './stack/services.ts';

const say = (line = '') => process.stdout.write(`${line}\n`);
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Returns the pid of a launcher that is still running, or undefined once this one holds the lock. */
async function claimLock(): Promise<number | undefined> {
  mkdirSync(stackDir, { recursive: true });
  for (;;) {
    try {
      // 'wx' creates the file only if it does not exist, so two launchers cannot both win.
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (pid && isAlive(pid)) return pid;
    await stopOrphans();
    rmSync(lockFile, { force: true });
  }
}

/** A launcher killed with SIGKILL leaves its services running; stop them before starting anew. */
async function stopOrphans(): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const file of readdirSync(runDir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(path.join(runDir, file), 'utf8'));
    if (pid && isAlive(pid)) {
      say(`  stopping ${file.replace('.pid', '')} left over from an earlier run (pid ${pid})`);
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // not a group leader any more
      }
      for (let i = 0; i < 40 && isAlive(pid); i++) await sleep(250);
      if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
    rmSync(path.join(runDir, file), { force: true });
  }
}

interface AppProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
}

const LEVELS_SHOWN = new Set(['warn', 'error', 'fatal']);

/** Runs one of our own processes; its JSON log goes to a file, its warnings also to the console. */
function startApp(name: string, entry: string, args: string[], env: StackEnvironment['env']): AppProcess {
  // The services create it when they start; when every one of them was reused, nothing has.
  mkdirSync(logsDir, { recursive: true });
  const logFile = path.join(logsDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      let level: string | undefined;
      try {
        level = (JSON.parse(line) as { level?: string }).level;
      } catch {
        level = 'error'; // anything that is not a JSON log line is worth seeing
      }
      if (level && LEVELS_SHOWN.has(level)) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  return { name, child, logFile };
}

async function waitForHttp(url: string, timeoutMs: number, init?: RequestInit): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  return false;
}

/** What the API's operator view of /health names as failing, for the launcher's error message. */
async function failingComponents(apiBase: string, internalSecret: string): Promise<string> {
  try {
    const res = await fetch(`${apiBase}/health`, { headers: { 'x-internal-secret': internalSecret }, signal: AbortSignal.timeout(30_000) });
    const report = (await res.json()) as { failing?: string[]; components?: Record<string, { error?: string }> };
    const failing = report.failing ?? [];
    return failing.length ? ` (failing: ${failing.map((name) => `${name}: ${report.components?.[name]?.error ?? '?'}`).join('; ')})` : '';
  } catch {
    return '';
  }
}

async function stopApps(apps: AppProcess[]): Promise<void> {
  // Workers get longer: running activities finish before they exit.
  await Promise.all(apps.map(({ child }) => terminateGroup(child, 20_000)));
}

/**
 * After the stack is up, so it never delays it: the demo creator uploads the demo videos it
 * does not have yet, and once they are transcoded the demo viewers watch, like and comment.
 */
async function addDemoVideos(apiBase: string, config: Config): Promise<void> {
  try {
    const api = httpApi(apiBase);
    await withDemoSessions(config, async (signIn) => {
      const creator = await signIn('creator');
      const started = await uploadDemoVideos(api, creator);
      if (started.length === 0) return;
      say(`Demo videos: ${started.length} uploaded by "creator", transcoding…`);
      const ready = await readyVideos(api, creator, started, 10 * 60_000);
      await watchAndLike(api, signIn, ready);
      await seedDemoComments(config);
      say(`Demo videos: ${ready.length} of ${started.length} ready, watched and liked.`);
    });
  } catch (err) {
    say(`Demo videos were not added: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function printUrls(stack: StackEnvironment, withApps: boolean) {
  const { config, ports } = stack;
  const rows: [string, string][] = [
    ...(withApps
      ? ([
          ['Web app', `${config.publicUrls.web}/`],
          ['API', `${config.publicUrls.api}/api/v1`],
          ['API reference', `${config.publicUrls.api}/docs`],
          ['Health', `${config.publicUrls.api}/health  (components with the internal secret: -H "x-internal-secret: …", in ${secretsFile})`],
          ['Metrics', `${config.publicUrls.api}/metrics  (internal secret as a bearer token; workers: http://localhost:${config.temporal.workerMetricsPort}/metrics)`],
          ['Realtime', config.publicUrls.realtime],
        ] as [string, string][])
      : []),
    ['Temporal UI', `http://localhost:${ports.temporalUi}`],
    ['Temporal gRPC', config.temporal.address],
    ['RTMP ingest', `${config.publicUrls.rtmp}/<stream key>`],
    ['Live HLS', `${config.publicUrls.hls}/<stream id>.m3u8`],
    ['S3 (MinIO)', `${config.s3.endpoint}  console http://localhost:${ports.minioConsole} (user ${config.s3.accessKeyId}, password in ${secretsFile})`],
    ['Mongo (FerretDB)', config.mongo.url],
    ...(config.payments.stripe
      ? ([
          ['Stripe API', config.payments.stripe.apiBaseUrl ?? 'https://api.stripe.com (STRIPE_API_BASE_URL unset)'],
          ['Stripe webhooks', `${config.publicUrls.api}/api/v1/webhooks/stripe  (send events: npx tsx scripts/stripe-trigger.ts payment_intent.succeeded)`],
        ] as [string, string][])
      : []),
    ['Mail (mailpit)', `http://localhost:${ports.mailpitUi}  (every message sent to ${config.mail.smtpUrl})`],
    ['Postgres', config.postgres.url],
    ['Logs', `${path.relative(repoRoot, logsDir)}/`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  say();
  say(bold(withApps ? 'StreamHub is running.' : 'StreamHub services are running.'));
  for (const [label, value] of rows) say(`  ${label.padEnd(width)}  ${value}`);
  say();
  say('Press Ctrl-C to stop everything this command started.');
}

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const mode = process.argv[2] ?? 'start';
  if (mode !== 'start' && mode !== 'services') {
    say(`Unknown mode "${mode}"; use start or services.`);
    process.exit(64);
  }

  let stack: StackEnvironment;
  try {
    stack = stackEnvironment();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }

  const running = await claimLock();
  if (running) {
    say(`StreamHub is already running here (launcher pid ${running}); nothing to do.`);
    say(`Stop it with Ctrl-C in its terminal or \`kill ${running}\`.`);
    return;
  }

  const startedAt = Date.now();
  let services: StartedService[] = [];
  let apps: AppProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nStopping…');
    await stopApps(apps);
    await stopServices(services);
    rmSync(lockFile, { force: true });
    say('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    say(bold('Starting services'));
    services = await ensureServices(
      serviceSpecs(stack.config, stack.ports, { internalSecret: stack.config.internalSecret }),
      say,
    );
    say(bold('Provisioning'));
    await provisionPlatform(stack.config, say);
    const demoUsers = await seedDemoData(stack.config);

    if (mode === 'start') {
      await ensureWebBuild(say);
      say(bold('Starting StreamHub'));
      apps = [
        startApp('api', 'api/server.ts', [], stack.env),
        startApp('workers', 'workers/main.ts', ['all'], stack.env),
        startApp('realtime', 'realtime/server.ts', [], stack.env),
      ];
      for (const app of apps) {
        app.child.once('exit', (code, signal) => {
          if (stopping) return;
          process.stderr.write(`${app.name} exited (${signal ?? `code ${code}`}); see ${app.logFile}\n`);
          void stopAll(1);
        });
      }
      const { api, realtime } = stack.config;
      const apiBase = `http://${api.host}:${api.port}`;
      if (!(await waitForHttp(`${apiBase}/health`, 60_000))) {
        throw new ServiceError('api', `not healthy after 60 s${await failingComponents(apiBase, stack.config.internalSecret)}`, apps[0]!.logFile);
      }
      if (!(await waitForHttp(`http://${realtime.host}:${realtime.port}/health`, 30_000))) {
        throw new ServiceError('realtime', 'not healthy after 30 s', apps[2]!.logFile);
      }
      // The ping workflow proves the workers poll both task queues and reach Postgres and FFmpeg.
      const pinged = await waitForHttp(`${apiBase}/internal/ping`, 120_000, {
        method: 'POST',
        headers: { 'x-internal-secret': stack.config.internalSecret },
      });
      if (!pinged) throw new ServiceError('workers', 'the ping workflow did not complete within 120 s', apps[1]!.logFile);
    }
    printUrls(stack, mode === 'start');
    say(`Demo logins (password "${DEMO_PASSWORD}"): ${demoUsers.map((u) => `${u.username} (${u.role})`).join(', ')}`);
    say(`(ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    if (mode === 'start') void addDemoVideos(`http://${stack.config.api.host}:${stack.config.api.port}`, stack.config);
  } catch (err) {
    process.stderr.write(`\n${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll(1);
  }
  // Services are detached and unreferenced, so nothing else keeps this process alive: stay in
  // the foreground until Ctrl-C (or SIGTERM) runs stopAll.
  await new Promise<never>(() => setInterval(() => {}, 1 << 30));
}

await main();
