import { spawn, type ChildProcess } from 'node:child_process';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, createMediaActivities, type MediaActivities } from '../../activities/index.ts';
import { mailDeps } from '../../activities/email.ts';
import { subscriptionActivityDeps } from '../../activities/subscriptions.ts';
import type { PaymentEventHandlers } from '../../activities/payments.ts';
import { createPayoutServices, type PayoutServices } from '../../lib/payouts/services.ts';
import { installRuntime } from '../../workers/runtime.ts';
import { createMediaWorker, createPlatformWorker, workflowsPath } from '../../workers/workers.ts';
import type { TestContext } from './context.ts';
import { freePort } from './ports.ts';

let bundle: Promise<WorkflowBundleOption> | undefined;

/**
 * The workflow code for this file's workers and replays: the bundle the global setup built
 * once for the whole run (WORKFLOW_BUNDLE_PATH), or, in the unit project, which has no global
 * setup, one bundled here per file (bundling takes seconds of CPU).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const built = process.env.WORKFLOW_BUNDLE_PATH;
  bundle ??= built ? Promise.resolve({ codePath: built }) : bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  return bundle;
}

export type Activities = ReturnType<typeof createActivities>;

export interface TestWorkerOptions {
  /** Replaces platform activities, to inject a fault. */
  wrap?: (real: Activities) => Partial<Activities>;
  /** Replaces media activities, to inject a fault. */
  wrapMedia?: (real: MediaActivities) => Partial<MediaActivities>;
  /** False when another process (spawnWorkerProcess) serves the media queue. */
  media?: boolean;
  /** Handlers of payment events in place of the registry's (test/support/payment-handlers.ts). */
  stripeEventHandlers?: PaymentEventHandlers;
  /** Replaces the payout services (e.g. Stripe behind a fault-injecting proxy). */
  payouts?: Partial<PayoutServices>;
}

/**
 * Runs `fn` while real workers poll this file's task queues. Options may replace activities
 * to inject a fault; everything else is the production code.
 */
export async function withWorkers<T>(ctx: TestContext, fn: () => Promise<T>, options: TestWorkerOptions = {}): Promise<T> {
  installRuntime(ctx.logger, { metricsHost: '127.0.0.1', metricsPort: 0 });
  const connection = await NativeConnection.connect({ address: ctx.config.temporal.address });
  try {
    const real = createActivities({
      db: ctx.db,
      mongo: ctx.mongo,
      nats: ctx.nats,
      storage: ctx.storage,
      rtmpControlUrl: ctx.config.rtmpControlUrl,
      stripeEventHandlers: options.stripeEventHandlers,
      mail: mailDeps(ctx.config),
      payouts: { ...createPayoutServices(ctx.config), ...options.payouts },
      subscriptions: subscriptionActivityDeps(ctx.config),
    });
    const namespace = ctx.config.temporal.namespace;
    const platform = await createPlatformWorker(
      { connection, namespace, taskQueue: ctx.config.temporal.taskQueue },
      { ...real, ...options.wrap?.(real) },
      // Workflows on this thread: a workflow thread per worker took ~0.8 s of CPU to boot (the
      // SDK's module graph and the bundle), and tests start hundreds of workers. Production, and
      // the worker processes tests spawn, keep the thread and its deadlock detector.
      { workflowBundle: await workflowBundle(), debugMode: true },
    );
    if (options.media === false) return await platform.runUntil(fn);
    const realMedia = createMediaActivities({ db: ctx.db, nats: ctx.nats, storage: ctx.storage, recordingsDir: ctx.config.rtmpRecordingsDir, liveHlsDir: ctx.config.rtmpHlsDir, limits: ctx.config.media });
    const media = await createMediaWorker(
      { connection, namespace, taskQueue: ctx.config.temporal.mediaTaskQueue },
      { ...realMedia, ...options.wrapMedia?.(realMedia) },
      { concurrency: 1 },
    );
    return await platform.runUntil(media.runUntil(fn));
  } finally {
    await connection.close();
  }
}

// A test that fails before it kills its worker must not leave the process polling forever.
const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface WorkerProcessOptions {
  /** A module loaded before the entrypoint, e.g. one that registers a test's payment-event handler. */
  preload?: string;
  env?: Record<string, string>;
}

/**
 * The production worker entrypoint as a separate process on this file's task queues and
 * database, so a test can SIGKILL it mid-work the way a crash or an OOM kill would.
 */
export async function spawnWorkerProcess(
  ctx: TestContext,
  role: 'platform' | 'media' | 'all' = 'platform',
  options: WorkerProcessOptions = {},
): Promise<ChildProcess> {
  const { config } = ctx;
  const preload = options.preload ? ['--import', options.preload] : [];
  const child = spawn(process.execPath, [...preload, 'workers/main.ts', role], {
    env: {
      ...process.env,
      LOG_LEVEL: 'error',
      DATABASE_URL: config.postgres.url,
      NATS_SUBJECT_PREFIX: config.nats.subjectPrefix,
      S3_KEY_PREFIX: config.s3.keyPrefix,
      RTMP_CONTROL_URL: config.rtmpControlUrl,
      RTMP_RECORDINGS_DIR: config.rtmpRecordingsDir,
      TEMPORAL_NAMESPACE: config.temporal.namespace,
      TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
      TEMPORAL_MEDIA_TASK_QUEUE: config.temporal.mediaTaskQueue,
      WORKER_METRICS_PORT: String(await freePort()),
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}
