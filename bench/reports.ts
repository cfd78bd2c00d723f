import { randomBytes, randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { createApp } from '../api/app.ts';
import { createDb } from '../lib/db.ts';
import { createLogger } from '../lib/logger.ts';
import { createHttpMetrics } from '../lib/metrics.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { fileReport } from '../lib/moderation/store.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { createPayoutServices } from '../lib/payouts/services.ts';
import { closeStorage, createStorage } from '../lib/s3.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { createTokenSigner } from '../lib/tokens.ts';
import { dropDatabase, ensureDatabase, ensureSearchAttributes } from '../scripts/stack/provision.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertBulkUsers } from '../test/support/fixtures.ts';
import { installRuntime } from '../workers/runtime.ts';
import { createPlatformWorker, workflowsPath } from '../workers/workers.ts';
import { workflowIds } from '../workflows/ids.ts';
import { caseStateQuery } from '../workflows/moderation.ts';
import { mailDeps } from '../activities/email.ts';
import { subscriptionActivityDeps } from '../activities/subscriptions.ts';

// N concurrent reports on one target from N reporters, through the whole intake: the API in
// this process (auth, the per-reporter rate limit, the target lookup, the report row under the
// case's row lock, `signalWithStart` on `moderation/<caseId>`) with a platform worker on a task
// queue of its own. Checks that they make one case with N reports, in Postgres and in the
// workflow. Baseline in the same run: the same N reports filed straight into Postgres by
// `fileReport` (no HTTP, no Temporal) on another target. Both keep at most `inFlight` reports
// open at once: every report of a target takes that case's row lock in turn, so thousands at
// once would only wait in the connection pool's queue until its timeout (the API answers 503
// then; a client retries, and a retried report is the same report). A 503 is retried here too,
// and counted.
// Runs against a scratch database of its own; needs Postgres, NATS and Temporal of the local
// stack (`npm run stack:services`).
// Usage: npm run bench -- reports [reports=1000] [inFlight=256]

const say = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;

/** Runs `work` for every item, at most `limit` at a time. */
async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export async function benchReports(args: string[]): Promise<void> {
  const [count = 1000, inFlight = 256] = args.map(Number);
  if (!(Number.isInteger(count) && count > 0 && Number.isInteger(inFlight) && inFlight > 0)) throw new Error('Usage: npm run bench -- reports [reports] [inFlight]');
  const { config: base } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const url = new URL(base.postgres.url);
  url.pathname = `/streamhub_bench_reports_${tag}`;
  const taskQueue = `bench-reports-${tag}`;
  const config = {
    ...base,
    postgres: { ...base.postgres, url: url.toString(), poolMax: 16 },
    temporal: { ...base.temporal, taskQueue },
    rateLimits: { ...base.rateLimits, generalPerMinute: 100 * count },
  };
  const logger = createLogger('bench', 'warn');
  installRuntime(logger, { metricsHost: '127.0.0.1', metricsPort: 0 });

  await ensureDatabase(url.toString());
  const db = createDb({ url: url.toString(), poolMax: 16, applicationName: 'bench-reports' });
  const storage = createStorage({ ...config.s3, keyPrefix: `bench-reports-${tag}/` });
  const mongo = createMongo({ url: config.mongo.url, database: `streamhub_bench_reports_${tag}`, appName: 'bench-reports' });
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: `bench${tag}.`, name: 'bench-reports' });
  const temporal = await connectTemporal(config.temporal);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    await migrateToLatest(db);
    const admin = await Connection.connect({ address: config.temporal.address });
    await ensureSearchAttributes(admin, config.temporal.namespace).finally(() => admin.close());

    process.stdout.write(`${count} reporters (×2) with sessions: creating… `);
    const setup = performance.now();
    const [target = '', baselineTarget = '', ...reporters] = await insertBulkUsers(db, 2 + 2 * count);
    const [apiReporters, baselineReporters] = [reporters.slice(0, count), reporters.slice(count)];
    const sessions = apiReporters.map((userId) => ({ id: randomUUID(), user_id: userId, expires_at: new Date(Date.now() + 3600_000) }));
    for (let i = 0; i < sessions.length; i += 1000) await db.insertInto('auth_sessions').values(sessions.slice(i, i + 1000)).execute();
    const signer = createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: 3600 });
    const tokens = await Promise.all(sessions.map(async (s) => (await signer.signAccess({ userId: s.user_id, role: 'viewer', sessionId: s.id })).token));
    say(`${seconds(setup).toFixed(1)} s`);

    // Baseline: the report rows alone.
    const bareStart = performance.now();
    const bare = await eachLimited(baselineReporters, inFlight, (reporterId) =>
      fileReport(db, { reporterId, targetType: 'user', targetId: baselineTarget, targetOwnerId: baselineTarget, reason: 'spam', details: '', timestampSeconds: null, priority: 'normal', snapshot: {} }),
    );
    const bareSeconds = seconds(bareStart);
    const bareCases = new Set(bare.map((r) => r.caseId));
    say(`  baseline fileReport × ${count}: ${bareSeconds.toFixed(2)} s, ${bareCases.size} case(s)`);

    const app = createApp({ config, logger, metrics: createHttpMetrics('bench'), db, mongo, storage, nats, temporal });
    const activities = createActivities({ db, mongo, nats, storage, rtmpControlUrl: config.rtmpControlUrl, mail: mailDeps(config), payouts: createPayoutServices(config), subscriptions: subscriptionActivityDeps(config) });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    const worker = await createPlatformWorker({ connection, namespace: config.temporal.namespace, taskQueue }, activities, { workflowBundle });
    const figures = await worker.runUntil(async () => {
      const started = performance.now();
      let retries = 0;
      const answers = await eachLimited(tokens, inFlight, async (token) => {
        for (;;) {
          const res = await app.request('/api/v1/reports', {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ targetType: 'user', targetId: target, reason: 'spam' }),
          });
          const body = (await res.json()) as { data?: { caseId: string } };
          if (res.status !== 503) return { status: res.status, caseId: body.data?.caseId };
          retries += 1;
          await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
        }
      });
      const apiSeconds = seconds(started);
      const statuses = new Map<number, number>();
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      const caseIds = [...new Set(answers.map((a) => a.caseId).filter(Boolean))];
      if (caseIds.length !== 1) throw new Error(`reports landed in ${caseIds.length} cases: ${caseIds.join(', ')}`);
      const handle = temporal.client.workflow.getHandle(workflowIds.moderation(caseIds[0]!));
      let state = await handle.query(caseStateQuery);
      while (state.reports < count) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await handle.query(caseStateQuery);
      }
      const countedSeconds = seconds(started);
      await handle.terminate('bench done');
      return { apiSeconds, countedSeconds, statuses, retries, caseId: caseIds[0]!, state };
    });
    const cases = await db.selectFrom('moderation_cases').select(['id', 'report_count', 'priority']).where('target_id', '=', target).execute();
    const rows = await db.selectFrom('reports').select((eb) => eb.fn.countAll<string>().as('n')).where('case_id', '=', figures.caseId).executeTakeFirstOrThrow();
    if (cases.length !== 1 || cases[0]!.report_count !== count || Number(rows.n) !== count || figures.state.reports !== count) {
      throw new Error(`expected one case with ${count} reports; got ${JSON.stringify({ cases, rows: rows.n, workflow: figures.state.reports })}`);
    }

    say(`\n${count} reports on one target, ${inFlight} in flight: API + workflow vs fileReport alone (same run)`);
    const header = ['reports', 'bare s', 'bare/s', 'API s', 'API/s', 'API/bare', 'counted s', 'cases', 'priority', 'runs'];
    const row = [
      count,
      bareSeconds.toFixed(2),
      Math.round(count / bareSeconds),
      figures.apiSeconds.toFixed(2),
      Math.round(count / figures.apiSeconds),
      (figures.apiSeconds / bareSeconds).toFixed(2),
      figures.countedSeconds.toFixed(2),
      cases.length,
      figures.state.priority,
      figures.state.runs,
    ].map(String);
    say(header.map((h) => h.padStart(11)).join(''));
    say(row.map((c) => c.padStart(11)).join(''));
    say(`statuses: ${[...figures.statuses].map(([s, n]) => `${s}×${n}`).join(', ')} (503s retried: ${figures.retries}); case ${figures.caseId}: ${cases[0]!.report_count} reports in Postgres, ${figures.state.reports} in the workflow`);
  } finally {
    await connection.close();
    await temporal.connection.close();
    await nats.connection.close();
    closeStorage(storage);
    await mongo.db.dropDatabase().catch(() => {});
    await mongo.close();
    await db.destroy();
    await dropDatabase(url.toString());
  }
}
