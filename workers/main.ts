import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from '../lib/config.ts';
import { createDb } from '../lib/db.ts';
import { createActivities, createMediaActivities } from '../activities/index.ts';
import { sweepStaleScratch } from '../activities/media.ts';
import { registerPaymentEventHandlers } from '../activities/payment-handlers.ts';
import { registerSubscriptionEventHandlers } from '../activities/subscription-events.ts';
import { subscriptionActivityDeps } from '../activities/subscriptions.ts';
import { moneyRules } from '../lib/money/config.ts';
import { createLogger } from '../lib/logger.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { closeStorage, createStorage } from '../lib/s3.ts';
import { handleShutdown } from '../lib/process.ts';
import { createPayoutServices } from '../lib/payouts/services.ts';
import { installRuntime } from './runtime.ts';
import { createMediaWorker, createPlatformWorker, workflowSource } from './workers.ts';
import { mailDeps } from '../activities/email.ts';

// Usage: workers/main.ts [platform|media|all] — `all` (the default) suits the local stack;
// production runs the two roles as separately scaled deployments.
const role = process.argv[2] ?? 'all';
if (!['platform', 'media', 'all'].includes(role)) {
  process.stderr.write(`Unknown worker role "${role}"; use platform, media or all.\n`);
  process.exit(64);
}

const config = loadConfig();
const logger = createLogger(`worker-${role}`, config.logLevel);
installRuntime(logger, { metricsHost: '0.0.0.0', metricsPort: config.temporal.workerMetricsPort });

// Signals are ours from the start: a SIGTERM that lands while the workers are still being
// created must stop the process (the SDK's own handler would tell only workers that exist).
let workers: Worker[] = [];
let running: Promise<unknown> = Promise.resolve();
const closers: (() => Promise<unknown> | void)[] = [];
handleShutdown(
  logger,
  async () => {
    // shutdown() stops polling and lets running activities finish within the SDK's grace time.
    for (const worker of workers) worker.shutdown();
    await running;
    for (const close of closers.reverse()) await close();
  },
  60_000,
);

const connection = await NativeConnection.connect({ address: config.temporal.address });
closers.push(() => connection.close());
const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: `streamhub-worker-${role}` });
closers.push(() => nats.connection.drain());
const db = createDb({ ...config.postgres, applicationName: `streamhub-worker` });
closers.push(() => db.destroy());
const storage = createStorage(config.s3);
closers.push(() => closeStorage(storage));
// Only platform activities read Mongo; a media worker would hold a client it never uses.
const mongo = role !== 'media' ? createMongo({ url: config.mongo.url, database: config.mongo.database, appName: `streamhub-worker-${role}` }) : undefined;
if (mongo) closers.push(() => mongo.close());
const namespace = config.temporal.namespace;

const created: Worker[] = [];
if (mongo) {
  registerPaymentEventHandlers({
    rules: moneyRules(config),
    disputeFee: BigInt(config.payments.disputeFeeMinor),
    subscriptionShareBps: config.subscriptions.creatorShareBps,
    // Gifted subscriptions last a calendar month (no giftPeriodSeconds): the subscription workflow's default.
    gifts: { graceSeconds: config.subscriptions.graceSeconds },
    logger,
  });
  registerSubscriptionEventHandlers({ logger, graceSeconds: config.subscriptions.graceSeconds });
  created.push(
    await createPlatformWorker(
      { connection, namespace, taskQueue: config.temporal.taskQueue },
      createActivities({ db, mongo, nats, storage, rtmpControlUrl: config.rtmpControlUrl, mail: mailDeps(config), payouts: createPayoutServices(config), subscriptions: subscriptionActivityDeps(config) }),
      workflowSource(config.temporal.workflowBundlePath),
    ),
  );
}
if (role !== 'platform') {
  const swept = await sweepStaleScratch();
  if (swept) logger.info({ swept }, 'removed scratch directories left by killed encodes');
  created.push(
    await createMediaWorker(
      { connection, namespace, taskQueue: config.temporal.mediaTaskQueue },
      createMediaActivities({ db, nats, storage, recordingsDir: config.rtmpRecordingsDir, liveHlsDir: config.rtmpHlsDir, limits: config.media }),
      { concurrency: config.temporal.mediaConcurrency },
    ),
  );
}

logger.info({ role, namespace, metricsPort: config.temporal.workerMetricsPort }, 'workers polling');
workers = created;
running = Promise.all(workers.map((worker) => worker.run()));
await running;
