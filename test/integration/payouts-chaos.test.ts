import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAccounts, trialBalance } from '../../lib/ledger/index.ts';
import { payoutKeys } from '../../lib/payouts/rules.ts';
import { createPayoutServices } from '../../lib/payouts/services.ts';
import { createStripeConnectGateway } from '../../lib/stripe.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { approvePayoutRunUpdate, cancelPayoutRunUpdate, settlementChangedSignal, type PayoutRunInput } from '../../workflows/payout-run.ts';
import { settleItem } from '../../lib/payouts/store.ts';
import { useTestContext } from '../support/context.ts';
import { insertBulkUsers, setRole } from '../support/fixtures.ts';
import { until } from '../support/gateway.ts';
import { startLossyProxy } from '../support/lossy-proxy.ts';
import { earningsOf, insertEligibleCreators, payoutEntryKeys, runProgress, untilPhase } from '../support/payouts.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

const t = useTestContext();
let starter = '';
let approver = '';
let proxy: Awaited<ReturnType<typeof startLossyProxy>>;

beforeAll(async () => {
  [starter = '', approver = ''] = await insertBulkUsers(t.ctx.db, 2);
  await setRole(t.ctx.db, starter, 'finance');
  await setRole(t.ctx.db, approver, 'finance');
  // Transfers and payouts: the first reply for each idempotency key is lost after Stripe did the work.
  proxy = await startLossyProxy(t.ctx.config.payments.stripe!.apiBaseUrl!, (path) => path === '/v1/transfers' || path === '/v1/payouts');
});
afterAll(() => proxy?.close());

const box = () => createPayoutServices(t.ctx.config).box;
const lossyConnect = () => createStripeConnectGateway({ ...t.ctx.config.payments.stripe!, apiBaseUrl: proxy.url });

function startRun(input: Partial<PayoutRunInput> = {}) {
  const runId = randomUUID();
  const args: PayoutRunInput = { runId, currency: 'USD', startedBy: starter, ...input };
  const handle = t.ctx.temporal.client.workflow.start('payoutRunWorkflow', { workflowId: workflowIds.payoutRun(runId), taskQueue: t.ctx.config.temporal.taskQueue, args: [args] });
  return { runId, handle };
}

/** Keeps a test's creators (paid back, eligible again) out of the next test's run. */
async function holdAfterTest(ids: string[]) {
  await t.ctx.db.insertInto('payout_holds').values(ids.map((id) => ({ user_id: id, reason: 'test done', set_by: approver }))).execute();
}

async function expectBooksWhole() {
  for (const line of await trialBalance(t.ctx.db)) expect(line.difference).toBe(0n);
  expect(await auditAccounts(t.ctx.db)).toEqual([]);
}

describe('payout runs under failure', () => {
  it('releases every reservation when the approval deadline passes', async () => {
    const { ids, share } = await insertEligibleCreators(t.ctx.db, box(), 7, 'bank_transfer');
    await withWorkers(
      t.ctx,
      async () => {
        const { runId, handle } = startRun({ approvalDeadlineMs: 1500, batchSize: 3 });
        await handle;
        const state = await untilPhase(t.ctx.temporal, runId, ['expired']);
        expect(state.reserved.count).toBe(7);
        expect(state.released).toBe(7);
        for (const id of ids) expect(await earningsOf(t.ctx.db, id)).toEqual({ available: share, reserved: 0n });
        const keys = await payoutEntryKeys(t.ctx.db);
        for (const id of ids) expect(keys.filter((k) => k.startsWith(`payout/${runId}/${id}`)).sort()).toEqual([payoutKeys.reserve(runId, id), payoutKeys.release(runId, id)]);
        const run = await t.ctx.db.selectFrom('payout_runs').select(['status', 'approved_by']).where('id', '=', runId).executeTakeFirstOrThrow();
        expect(run).toEqual({ status: 'expired', approved_by: null });
      },
      { media: false },
    );
    await expectBooksWhole();
    await holdAfterTest(ids);
  });

  it('releases every reservation on cancel, and refuses a cancel by a non-finance caller', async () => {
    const { ids, share } = await insertEligibleCreators(t.ctx.db, box(), 4, 'bank_transfer');
    await withWorkers(
      t.ctx,
      async () => {
        const { runId } = startRun();
        await untilPhase(t.ctx.temporal, runId, ['awaiting_approval']);
        const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.payoutRun(runId));
        await expect(handle.executeUpdate(cancelPayoutRunUpdate, { args: [{ by: approver, role: 'viewer' }] })).rejects.toThrow();
        await handle.executeUpdate(cancelPayoutRunUpdate, { args: [{ by: approver, role: 'finance' }] });
        const state = await untilPhase(t.ctx.temporal, runId, ['cancelled']);
        expect(state.released).toBe(4);
        for (const id of ids) expect(await earningsOf(t.ctx.db, id)).toEqual({ available: share, reserved: 0n });
        expect(await t.ctx.db.selectFrom('payout_runs').select(['status', 'cancelled_by']).where('id', '=', runId).executeTakeFirstOrThrow()).toEqual({ status: 'cancelled', cancelled_by: approver });
      },
      { media: false },
    );
    await expectBooksWhole();
    await holdAfterTest(ids);
  });

  it('completes at once when an item settles while the run is reading its settlement status (that nudge is not lost)', async () => {
    const { ids } = await insertEligibleCreators(t.ctx.db, box(), 2, 'stripe');
    // Armed below: the next status read settles the last item and nudges the run while it reads, then answers what it read before.
    let duringRead: (() => Promise<void>) | undefined;
    await withWorkers(
      t.ctx,
      async () => {
        // No poll within the test: only a nudge can wake the run.
        const { runId } = startRun({ settlementPollMs: 3_600_000 });
        const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.payoutRun(runId));
        await untilPhase(t.ctx.temporal, runId, ['awaiting_approval']);
        await handle.executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: approver, approverRole: 'finance' }] });
        await untilPhase(t.ctx.temporal, runId, ['settling']);
        // Its first read is done (two open) and it waits for a nudge before the read is armed.
        await until(async () => (await runProgress(t.ctx.temporal, runId)).unsettled === 2, 'the first settlement read');
        const [first, last] = await t.ctx.db.selectFrom('payout_items').select('id').where('run_id', '=', runId).where('status', '=', 'submitted').orderBy('id').execute();
        duringRead = async () => {
          await t.ctx.db.transaction().execute((tx) => settleItem(tx, { itemId: last!.id, outcome: 'paid', settledBy: 'test' }));
          await handle.signal(settlementChangedSignal);
        };
        await t.ctx.db.transaction().execute((tx) => settleItem(tx, { itemId: first!.id, outcome: 'paid', settledBy: 'test' }));
        await handle.signal(settlementChangedSignal);
        const done = await untilPhase(t.ctx.temporal, runId, ['completed'], 60_000);
        expect(done.totals!.byStatus.paid?.count).toBe(2);
        expect(duringRead).toBeUndefined();
      },
      {
        media: false,
        wrap: (real) => ({
          async payoutSettlementStatus(input: { runId: string }) {
            const status = await real.payoutSettlementStatus(input);
            const settle = duringRead;
            duringRead = undefined;
            await settle?.();
            return status;
          },
        }),
      },
    );
    await expectBooksWhole();
    await holdAfterTest(ids);
  });

  it('continues as new past its event bound while reserving, paying and settling many creators, each once', async () => {
    const { ids, share } = await insertEligibleCreators(t.ctx.db, box(), 45, 'stripe');
    await withWorkers(
      t.ctx,
      async () => {
        // 15 batches of 3 to reserve (one per activity) and 15 pages to pay, in runs of at most ~40 events.
        const { runId } = startRun({ batchSize: 3, batchesPerActivity: 1, maxHistoryEvents: 40, settlementPollMs: 60_000 });
        const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.payoutRun(runId));
        const awaiting = await untilPhase(t.ctx.temporal, runId, ['awaiting_approval'], 120_000);
        expect(awaiting.reserved).toEqual({ count: 45, amount: String(share * 45n) });
        const runsWhileReserving = awaiting.runs;
        expect(runsWhileReserving).toBeGreaterThan(1);
        // The update reaches the chain's latest run through the workflow id alone.
        await handle.executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: approver, approverRole: 'finance' }] });
        const settling = await untilPhase(t.ctx.temporal, runId, ['settling'], 180_000);
        expect(settling.stripe).toEqual({ submitted: 45, failed: 0 });
        expect(settling.runs).toBeGreaterThan(runsWhileReserving);

        const items = await t.ctx.db.selectFrom('payout_items').select('id').where('run_id', '=', runId).where('status', '=', 'submitted').execute();
        expect(items).toHaveLength(45);
        for (const item of items) await t.ctx.db.transaction().execute((tx) => settleItem(tx, { itemId: item.id, outcome: 'paid', settledBy: 'test' }));
        await handle.signal(settlementChangedSignal);
        const done = await untilPhase(t.ctx.temporal, runId, ['completed'], 60_000);
        expect(done.totals!.byStatus).toEqual({ paid: { count: 45, amount: String(share * 45n) } });

        // Every run of the chain stayed small and the chain carried everything: one reservation and one payment each.
        const lengths: number[] = [];
        for await (const run of t.ctx.temporal.client.workflow.list({ query: `WorkflowId = '${workflowIds.payoutRun(runId)}'` })) {
          lengths.push((await t.ctx.temporal.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events?.length ?? 0);
        }
        expect(lengths.length).toBeGreaterThanOrEqual(done.runs - 1);
        for (const length of lengths) expect(length).toBeLessThan(80);
        const keys = (await payoutEntryKeys(t.ctx.db)).filter((k) => k.startsWith(`payout/${runId}/`));
        expect(keys.sort()).toEqual(ids.flatMap((id) => [payoutKeys.reserve(runId, id), payoutKeys.paid(runId, id)]).sort());
        for (const id of ids.slice(0, 10)) expect(await earningsOf(t.ctx.db, id)).toEqual({ available: 0n, reserved: 0n });
        t.ctx.logger.warn({ runId, runs: done.runs, lengths }, 'payout continue-as-new: the chain');
      },
      { media: false },
    );
    await expectBooksWhole();
  }, 420_000);

  it('pays each creator once when workers are SIGKILLed during reservation and execution and Stripe’s replies are lost', async () => {
    const { ids, share } = await insertEligibleCreators(t.ctx.db, box(), 120, 'stripe');
    const workerEnv = { env: { STRIPE_API_BASE_URL: proxy.url } };
    const { runId } = startRun({ batchSize: 2 });
    const itemCount = async () => Number((await t.ctx.db.selectFrom('payout_items').select((eb) => eb.fn.countAll().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow()).n);
    const submittedCount = async () =>
      Number((await t.ctx.db.selectFrom('payout_items').select((eb) => eb.fn.countAll().as('n')).where('run_id', '=', runId).where('status', '=', 'submitted').executeTakeFirstOrThrow()).n);

    // Killed mid-reservation.
    const first = await spawnWorkerProcess(t.ctx, 'platform', workerEnv);
    await until(async () => (await itemCount()) > 0, 'the first reservations', 60_000);
    first.kill('SIGKILL');
    const reservedAtKill = await itemCount();

    await withWorkers(
      t.ctx,
      async () => {
        await untilPhase(t.ctx.temporal, runId, ['awaiting_approval'], 120_000);
      },
      { media: false, payouts: { connect: lossyConnect() } },
    );
    expect(await itemCount()).toBe(120);

    // Killed mid-execution.
    const second = await spawnWorkerProcess(t.ctx, 'platform', workerEnv);
    await t.ctx.temporal.client.workflow.getHandle(workflowIds.payoutRun(runId)).executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: approver, approverRole: 'finance' }] });
    await until(async () => (await submittedCount()) > 0, 'the first payouts', 60_000);
    second.kill('SIGKILL');
    const submittedAtKill = await submittedCount();

    await withWorkers(
      t.ctx,
      async () => {
        await untilPhase(t.ctx.temporal, runId, ['settling'], 180_000);
      },
      { media: false, payouts: { connect: lossyConnect() } },
    );

    expect(await submittedCount()).toBe(120);
    // One reservation per creator, each holding the whole share; nothing released or paid twice.
    const keys = await payoutEntryKeys(t.ctx.db);
    expect(keys.filter((k) => k.startsWith(`payout/${runId}/`)).sort()).toEqual(ids.map((id) => payoutKeys.reserve(runId, id)).sort());
    for (const id of ids.slice(0, 20)) expect(await earningsOf(t.ctx.db, id)).toEqual({ available: 0n, reserved: share });
    // Every creator's transfer and payout reached Stripe under one idempotency key each, however often it was sent.
    for (const path of ['/v1/transfers', '/v1/payouts']) {
      const sent = proxy.requests.filter((r) => r.path === path && r.idempotencyKey?.includes(runId));
      const keysSent = new Set(sent.map((r) => r.idempotencyKey));
      expect(keysSent.size).toBe(120);
      expect([...keysSent].sort()).toEqual(ids.map((id) => `streamhub/payout/${runId}/${id}/${path === '/v1/transfers' ? 'transfer' : 'payout'}`).sort());
      // The first reply of each was lost, so each was sent again: more requests than keys, never another key.
      expect(sent.filter((r) => r.replyDropped).length).toBe(120);
      expect(sent.length).toBeGreaterThanOrEqual(240);
    }
    await expectBooksWhole();
    t.ctx.logger.info({ reservedAtKill, submittedAtKill }, 'payout chaos: state when the workers were killed');
  }, 420_000);
});
