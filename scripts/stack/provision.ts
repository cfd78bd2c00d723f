import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import pg from 'pg';
import { sleep } from '../../lib/async.ts';
import type { Config } from '../../lib/config.ts';
import { createDb } from '../../lib/db.ts';
import { migrateToLatest } from '../../lib/migrate.ts';
import { connectNats, ensureJetStream } from '../../lib/nats.ts';
import { closeStorage, createStorage, ensureBucket } from '../../lib/s3.ts';
import { searchAttributes } from '../../lib/temporal.ts';

// Idempotent creation of what the platform expects to find. Run by the local stack on every
// start, by the test setup, and in production by `npm run provision` before the services start.

const { IndexedValueType } = proto.temporal.api.enums.v1;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Runs `fn` with a client on the server's maintenance database (for CREATE/DROP DATABASE). */
export async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function ensureDatabase(url: string, options: { template?: string } = {}): Promise<void> {
  const name = databaseName(url);
  await withAdminClient(url, async (client) => {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return;
    const template = options.template ? ` template ${quoteIdent(options.template)}` : '';
    try {
      await client.query(`create database ${quoteIdent(name)}${template}`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') throw err; // created concurrently
    }
  });
}

export async function dropDatabase(url: string): Promise<void> {
  await withAdminClient(url, (client) => client.query(`drop database if exists ${quoteIdent(databaseName(url))} with (force)`));
}

const isGrpcCode = (err: unknown, code: number) => (err as { code?: number })?.code === code;
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

async function retryWhileNotFound<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!isGrpcCode(err, NOT_FOUND) || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 3): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch {
    // not there yet
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
    });
  } catch (err) {
    if (!isGrpcCode(err, ALREADY_EXISTS)) throw err;
  }
  // A new namespace becomes visible to every frontend after the namespace cache refreshes.
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch {
      await sleep(500);
    }
  }
  throw new Error(`Temporal namespace ${namespace} did not become available`);
}

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  // The operator service learns of a new namespace a few seconds after the frontend does.
  const { customAttributes } = await retryWhileNotFound(() => connection.operatorService.listSearchAttributes({ namespace }));
  const missing = Object.values(searchAttributes).filter((key) => !customAttributes?.[key.name]);
  if (!missing.length) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (err) {
    if (!isGrpcCode(err, ALREADY_EXISTS)) throw err;
  }
}

export const retentionScheduleId = 'maintenance-retention';
export const chatRetentionScheduleId = 'maintenance-chat-retention';
export const earningsMaturationScheduleId = 'earnings-maturation';
export const viewRollupScheduleId = 'views-rollup';
export const trendingScheduleId = 'trending';
export const liveThumbnailsScheduleId = 'live-thumbnails';
/** Live thumbnails one run takes (the stalest first): ~0.1 s of FFmpeg each, well inside its minute. */
export const LIVE_THUMBNAILS_PER_RUN = 200;
export const analyticsRollupScheduleId = 'analytics-rollup';
export const notificationDigestScheduleId = 'notification-digest';

/**
 * A periodic run (daily unless said; `atHourUtc`: daily on that hour); its action and timing are
 * updated in place when its configuration changes.
 */
export async function ensureSchedule(
  client: Client,
  options: { scheduleId: string; workflowType: string; taskQueue: string; args: unknown[]; every?: '1 day' | '1 hour' | '5 minutes' | '1 minute'; atHourUtc?: number },
): Promise<void> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: options.workflowType,
    workflowId: options.scheduleId.startsWith('maintenance-') ? `maintenance/${options.scheduleId.replace(/^maintenance-/, '')}` : options.scheduleId,
    taskQueue: options.taskQueue,
    args: options.args,
  };
  const spec = options.atHourUtc === undefined ? { intervals: [{ every: options.every ?? '1 day' }] } : { calendars: [{ hour: options.atHourUtc, minute: 0, second: 0 }] };
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({ ...previous, action, ...(options.atHourUtc === undefined ? {} : { spec }) }));
  }
}

/** Database and migrations, Temporal namespace, search attributes and schedules, bucket, JetStream. */
export async function provisionPlatform(
  config: Config,
  report: (line: string) => void,
  options: { schedules: boolean } = { schedules: true },
): Promise<void> {
  await ensureDatabase(config.postgres.url);
  const db = createDb({ url: config.postgres.url, poolMax: 1, applicationName: 'streamhub-provision' });
  try {
    for (const m of await migrateToLatest(db)) report(`  migration ${m.migrationName}: ${m.status}`);
  } finally {
    await db.destroy();
  }

  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    await ensureNamespace(connection, config.temporal.namespace);
    await ensureSearchAttributes(connection, config.temporal.namespace);
    if (options.schedules) {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const taskQueue = config.temporal.taskQueue;
      await ensureSchedule(client, {
        scheduleId: retentionScheduleId,
        workflowType: 'retentionWorkflow',
        taskQueue,
        args: [{ readNotificationDays: config.retention.readNotificationDays, viewDays: config.retention.viewDays }],
      });
      // FerretDB has no TTL indexes, so old chat goes by schedule too (and the same way on MongoDB).
      await ensureSchedule(client, { scheduleId: chatRetentionScheduleId, workflowType: 'chatRetentionWorkflow', taskQueue, args: [{ chatDays: config.retention.chatDays }] });
      // Hourly, so earnings become available within an hour of their hold ending.
      await ensureSchedule(client, {
        scheduleId: earningsMaturationScheduleId,
        workflowType: 'earningsMaturationWorkflow',
        taskQueue,
        args: [{ holdDays: config.money.earningsHoldDays, currency: config.money.settlementCurrency }],
        every: '1 hour',
      });
      // Every minute: list pages and sorts read videos.view_count, which lags by at most this.
      await ensureSchedule(client, {
        scheduleId: viewRollupScheduleId,
        workflowType: 'viewRollupWorkflow',
        taskQueue,
        args: [{ windowSeconds: config.views.windowSeconds }],
        every: '1 minute',
      });
      // Scores move slowly (hours of half-life); five minutes keeps the list fresh at little cost.
      await ensureSchedule(client, { scheduleId: trendingScheduleId, workflowType: 'trendingWorkflow', taskQueue, args: [config.trending], every: '5 minutes' });
      await ensureSchedule(client, {
        scheduleId: liveThumbnailsScheduleId,
        workflowType: 'liveThumbnailsWorkflow',
        taskQueue,
        args: [{ mediaTaskQueue: config.temporal.mediaTaskQueue, maxStreams: LIVE_THUMBNAILS_PER_RUN }],
        every: '1 minute',
      });
      // Creator analytics lag by at most this (README, "Creator analytics").
      await ensureSchedule(client, {
        scheduleId: analyticsRollupScheduleId,
        workflowType: 'analyticsRollupWorkflow',
        taskQueue,
        args: [{ currency: config.money.settlementCurrency }],
        every: '5 minutes',
      });
      // Daily at NOTIFICATION_DIGEST_HOUR_UTC; each run's start time is its cut-off.
      await ensureSchedule(client, {
        scheduleId: notificationDigestScheduleId,
        workflowType: 'notificationDigestWorkflow',
        taskQueue,
        args: [{}],
        atHourUtc: config.mail.digestHourUtc,
      });
    }
  } finally {
    await connection.close();
  }

  const storage = createStorage(config.s3);
  try {
    await ensureBucket(storage);
  } finally {
    closeStorage(storage);
  }

  const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: 'streamhub-provision' });
  try {
    await ensureJetStream(nats, config.nats.subjectPrefix);
  } finally {
    await nats.connection.close();
  }
  report('  database, Temporal namespace, search attributes and schedules, bucket and JetStream are ready');
}
