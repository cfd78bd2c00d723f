import { randomBytes, randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import { createActivities } from '../activities/index.ts';
import { createDb, type Db } from '../lib/db.ts';
import { kindRule } from '../lib/ledger/chart.ts';
import { createLogger } from '../lib/logger.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { createPayoutServices } from '../lib/payouts/services.ts';
import { closeStorage, createStorage, deleteObjectsUnder } from '../lib/s3.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { dropDatabase, ensureDatabase, ensureSearchAttributes } from '../scripts/stack/provision.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertEligibleCreators } from '../test/support/payouts.ts';
import { insertBulkUsers } from '../test/support/fixtures.ts';
import { installRuntime } from '../workers/runtime.ts';
import { createPlatformWorker, workflowsPath } from '../workers/workers.ts';
import { workflowIds } from '../workflows/ids.ts';
import { approvePayoutRunUpdate, payoutRunProgressQuery, type PayoutRunInput, type PayoutRunPhase, type payoutRunWorkflow } from '../workflows/payout-run.ts';
import { mailDeps } from '../activities/email.ts';
import { subscriptionActivityDeps } from '../activities/subscriptions.ts';

// A payout run over N eligible creators (bank transfers) from its start to its pain.001 file in
// S3, through the real workflow and activities (a platform worker in this process on a task
// queue of its own), next to the same reservations made by one bare set-based SQL pass over
// the same creators in the same run (in a transaction that is then rolled back, so the run
// finds the same balances). Also the longest history of any run of the workflow's chain.
// Runs against a scratch database of its own; needs Postgres, MinIO and Temporal of the local
// stack (`npm run stack:services`).
// Usage: npm run bench -- payouts [creators=10000] [batchSize=500] [batchesPerActivity=20]
// (batchesPerActivity=1 is how runs reserved before batches were grouped into one activity.)

const say = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;

/** One set-based pass doing what reserveBatch does for every eligible creator at once. */
async function bareReservations(db: Db, runId: string, startedBy: string, minimum: bigint): Promise<{ seconds: number; count: number; amount: bigint }> {
  const reserved = kindRule('earnings_reserved');
  return db
    .transaction()
    .execute(async (tx) => {
      const started = performance.now();
      await tx.insertInto('payout_runs').values({ id: runId, currency: 'USD', minimum_amount: minimum.toString(), status: 'selecting', started_by: startedBy }).execute();
      const eligible = sql`
        select a.owner_id as user_id, a.credits_posted - a.debits_posted as amount, a.id as available_id,
               m.kind, m.stripe_account_id, m.account_holder, m.iban_sealed, m.iban_masked
        from ledger_accounts a
        join payout_methods m on m.user_id = a.owner_id and m.status = 'verified'
        join users u on u.id = a.owner_id and u.status = 'active' and u.deleted_at is null
        where a.kind = 'earnings_available' and a.currency = 'USD'
          and a.credits_posted - a.debits_posted >= ${minimum.toString()}::bigint
          and not exists (select 1 from payout_holds h where h.user_id = a.owner_id and h.lifted_at is null)`;
      await sql`create temporary table bare_eligible on commit drop as ${eligible}`.execute(tx);
      await sql`
        insert into ledger_accounts (code, kind, owner_id, currency, normal_side, debits_must_not_exceed_credits, credits_must_not_exceed_debits)
        select e.user_id || ':earnings_reserved:USD', 'earnings_reserved', e.user_id, 'USD', ${reserved.normalSide},
               ${reserved.limit === 'debits_must_not_exceed_credits'}, ${reserved.limit === 'credits_must_not_exceed_debits'}
        from bare_eligible e
        on conflict (code) do nothing`.execute(tx);
      const { rows } = await sql<{ count: string; amount: string }>`
        with entries as (
          insert into ledger_entries (idempotency_key, kind, description, refs, fingerprint)
          select 'payout/' || ${runId} || '/' || e.user_id, 'payout.reserved', 'bare', jsonb_build_object('runId', ${runId}::text, 'creatorId', e.user_id), 'bare'
          from bare_eligible e
          returning id, (refs->>'creatorId')::uuid as user_id
        ), postings as (
          insert into ledger_postings (entry_id, account_id, currency, side, amount)
          select x.id, case when s.side = 'debit' then e.available_id else r.id end, 'USD', s.side, e.amount
          from entries x
          join bare_eligible e on e.user_id = x.user_id
          join ledger_accounts r on r.code = e.user_id || ':earnings_reserved:USD'
          cross join (values ('debit'), ('credit')) s(side)
          returning 1
        ), items as (
          insert into payout_items (run_id, user_id, currency, amount, method, status, stripe_account_id, account_holder, iban_sealed, iban_masked, reserve_entry_id)
          select ${runId}, e.user_id, 'USD', e.amount, e.kind, 'reserved', e.stripe_account_id, e.account_holder, e.iban_sealed, e.iban_masked, x.id
          from entries x join bare_eligible e on e.user_id = x.user_id
          returning amount
        )
        select (select count(*) from postings)::text as postings, count(*)::text as count, coalesce(sum(amount), 0)::text as amount from items`.execute(tx);
      const result = { seconds: seconds(started), count: Number(rows[0]!.count), amount: BigInt(rows[0]!.amount) };
      // Undone, so that the workflow finds every creator eligible again.
      throw Object.assign(new Error('rollback'), { result });
    })
    .catch((err: unknown) => {
      const result = (err as { result?: { seconds: number; count: number; amount: bigint } }).result;
      if (!result) throw err;
      return result;
    });
}

export async function benchPayouts(args: string[]): Promise<void> {
  const [creatorCount = 10_000, batchSize = 500, batchesPerActivity = 20] = args.map(Number);
  if (![creatorCount, batchSize, batchesPerActivity].every((n) => Number.isInteger(n) && n > 0)) throw new Error('Usage: npm run bench -- payouts [creators] [batchSize] [batchesPerActivity]');
  const { config } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const url = new URL(config.postgres.url);
  url.pathname = `/streamhub_bench_payouts_${tag}`;
  const taskQueue = `bench-payouts-${tag}`;
  const keyPrefix = `bench-payouts-${tag}/`;
  const logger = createLogger('bench', 'warn');
  installRuntime(logger, { metricsHost: '127.0.0.1', metricsPort: 0 });

  await ensureDatabase(url.toString());
  const db = createDb({ url: url.toString(), poolMax: 8, applicationName: 'bench-payouts' });
  const storage = createStorage({ ...config.s3, keyPrefix });
  const mongo = createMongo({ url: config.mongo.url, database: `streamhub_bench_payouts_${tag}`, appName: 'bench-payouts' });
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: `bench${tag}.`, name: 'bench-payouts' });
  const temporal = await connectTemporal({ ...config.temporal, taskQueue });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    await migrateToLatest(db);
    const admin = await Connection.connect({ address: config.temporal.address });
    await ensureSearchAttributes(admin, config.temporal.namespace).finally(() => admin.close());

    process.stdout.write(`${creatorCount} eligible creators (bank transfer): creating… `);
    const setup = performance.now();
    const [starter = '', approver = ''] = await insertBulkUsers(db, 2);
    await db.updateTable('users').set({ role: 'finance' }).where('id', 'in', [starter, approver]).execute();
    const services = createPayoutServices(config);
    const { share } = await insertEligibleCreators(db, services.box, creatorCount, 'bank_transfer', 10_000n, 8);
    await sql`vacuum (analyze) users, payout_methods, ledger_accounts, ledger_entries, ledger_postings`.execute(db);
    say(`${seconds(setup).toFixed(1)} s`);

    const minimum = BigInt(config.payouts.minimumAmount);
    const bare = await bareReservations(db, randomUUID(), starter, minimum);
    say(`  bare SQL pass: ${bare.count} reservations in ${bare.seconds.toFixed(2)} s (rolled back)`);
    if (bare.count !== creatorCount || bare.amount !== share * BigInt(creatorCount)) throw new Error(`the bare pass reserved ${bare.count} (${bare.amount}), expected ${creatorCount}`);

    const activities = createActivities({ db, mongo, nats, storage, rtmpControlUrl: config.rtmpControlUrl, mail: mailDeps(config), payouts: services, subscriptions: subscriptionActivityDeps(config) });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    const worker = await createPlatformWorker({ connection, namespace: config.temporal.namespace, taskQueue }, activities, { workflowBundle });
    const runId = randomUUID();
    const workflowId = workflowIds.payoutRun(runId);
    const figures = await worker.runUntil(async () => {
      const handle = temporal.client.workflow.getHandle<typeof payoutRunWorkflow>(workflowId);
      const untilPhase = async (phases: PayoutRunPhase[]) => {
        for (;;) {
          const state = await handle.query(payoutRunProgressQuery).catch(() => undefined);
          if (state && phases.includes(state.phase)) return state;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const started = performance.now();
      const input: PayoutRunInput = { runId, currency: 'USD', startedBy: starter, batchSize, batchesPerActivity };
      await temporal.client.workflow.start('payoutRunWorkflow', { workflowId, taskQueue, args: [input] });
      const selected = await untilPhase(['awaiting_approval']);
      const reserveSeconds = seconds(started);
      const approving = performance.now();
      await handle.executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: approver, approverRole: 'finance' }] });
      const settling = await untilPhase(['settling']);
      const fileSeconds = seconds(approving);
      await handle.terminate('bench done');
      return { reserveSeconds, fileSeconds, totalSeconds: seconds(started), reserved: selected.reserved, bankFile: settling.bankFile, runs: settling.runs };
    });
    if (figures.reserved.count !== creatorCount || figures.bankFile?.count !== creatorCount) throw new Error(`the run reserved ${figures.reserved.count} and filed ${figures.bankFile?.count}`);

    const lengths: number[] = [];
    for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      lengths.push((await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory()).events?.length ?? 0);
    }
    const header = ['creators', 'batch', 'per activity', 'bare s', 'reserve s', 'reserve/bare', 'file s', 'start→file s', 'total/bare', 'runs', 'max history'];
    const row = [
      creatorCount,
      batchSize,
      batchesPerActivity,
      bare.seconds.toFixed(2),
      figures.reserveSeconds.toFixed(2),
      (figures.reserveSeconds / bare.seconds).toFixed(2),
      figures.fileSeconds.toFixed(2),
      figures.totalSeconds.toFixed(2),
      (figures.totalSeconds / bare.seconds).toFixed(2),
      figures.runs,
      Math.max(...lengths),
    ].map(String);
    say(`\npayout run (workflow, bank file) vs one bare SQL pass of the same reservations (same creators, same run)`);
    say(header.map((h) => h.padStart(13)).join(''));
    say(row.map((c) => c.padStart(13)).join(''));
    say(`history lengths of the chain's runs: ${lengths.join(', ')}; file ${figures.bankFile?.key} with ${figures.bankFile?.count} transfers, control sum ${figures.bankFile?.controlSum}`);
  } finally {
    await connection.close();
    await temporal.connection.close();
    await nats.connection.close();
    await deleteObjectsUnder(storage, '').catch(() => {});
    closeStorage(storage);
    await mongo.db.dropDatabase().catch(() => {});
    await mongo.close();
    await db.destroy();
    await dropDatabase(url.toString());
  }
}
