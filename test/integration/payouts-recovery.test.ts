import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createPayoutServices } from '../../lib/payouts/services.ts';
import { openRun } from '../../lib/payouts/store.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { PayoutRunInput } from '../../workflows/payout-run.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { until } from '../support/gateway.ts';
import { startInputOf } from '../support/history.ts';
import { call } from '../support/http.ts';
import { earningsOf, insertEligibleCreators, untilPhase } from '../support/payouts.ts';
import { freePort } from '../support/ports.ts';
import { startTcpGate } from '../support/tcp-gate.ts';
import { withWorkers } from '../support/workers.ts';

// The API writes a run's row, then starts its workflow. An API that dies between the two must
// not leave the currency blocked: the next start in that currency, or a GET of the run, starts
// the workflow from the row.

const t = useTestApp();

async function financeUser(): Promise<TestUser> {
  const user = await newUser(t.app);
  await setRole(t.ctx.db, user.id, 'finance');
  return user;
}

const runRow = (runId: string) => t.ctx.db.selectFrom('payout_runs').select(['status', 'started_by']).where('id', '=', runId).executeTakeFirst();
const handleOf = (runId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.payoutRun(runId));

describe('a payout run whose API died before it started the workflow', () => {
  it('is started by the next start in its currency after the API process was SIGKILLed between the row and the workflow', async () => {
    const { db, config } = t.ctx;
    const [starter, colleague] = [await financeUser(), await financeUser()];
    const { ids, share } = await insertEligibleCreators(db, createPayoutServices(config).box, 3, 'bank_transfer');

    // A real API process whose Temporal connection goes through a gate the test can shut.
    const [host, port] = config.temporal.address.split(':');
    const gate = await startTcpGate({ host: host!, port: Number(port) });
    const apiPort = await freePort();
    const api = spawn(process.execPath, ['api/server.ts'], {
      env: {
        ...process.env,
        LOG_LEVEL: 'error',
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        DATABASE_URL: config.postgres.url,
        MONGO_DATABASE: config.mongo.database,
        S3_KEY_PREFIX: config.s3.keyPrefix,
        NATS_SUBJECT_PREFIX: config.nats.subjectPrefix,
        TEMPORAL_ADDRESS: gate.address,
        TEMPORAL_NAMESPACE: config.temporal.namespace,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise((resolve) => api.once('exit', resolve));
    let runId = '';
    try {
      const base = `http://127.0.0.1:${apiPort}`;
      await until(() => fetch(`${base}/health`).then(() => true, () => false), 'the API process to listen', 60_000);

      gate.hold();
      const post = fetch(`${base}/api/v1/finance/payout-runs`, {
        method: 'POST',
        headers: { ...starter.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ currency: 'USD' }),
      }).catch((err: unknown) => err);
      await until(async () => Boolean(await db.selectFrom('payout_runs').select('id').where('currency', '=', 'USD').executeTakeFirst()), 'the run’s row', 30_000);
      // The row is written and the workflow's start is stuck behind the gate: the crash window.
      api.kill('SIGKILL');
      await exited;
      expect(await post).toBeInstanceOf(Error);
      runId = (await db.selectFrom('payout_runs').select('id').where('currency', '=', 'USD').executeTakeFirstOrThrow()).id;
    } finally {
      if (api.exitCode === null && api.signalCode === null) api.kill('SIGKILL');
      await gate.close();
    }

    expect(await runRow(runId)).toEqual({ status: 'selecting', started_by: starter.id });
    await expect(handleOf(runId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    // A colleague's start in the same currency is refused (one open run) and starts the orphan.
    const again = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: colleague.auth, body: { currency: 'USD' } });
    expect(again.status).toBe(409);
    expect(again.json.error.details).toEqual({ runId, resumed: true });
    expect(await startInputOf<PayoutRunInput>(handleOf(runId))).toMatchObject({ runId, currency: 'USD', startedBy: starter.id, minimumAmount: String(config.payouts.minimumAmount) });
    // Asking again changes nothing: the workflow exists now.
    const third = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: colleague.auth, body: { currency: 'USD' } });
    expect(third.json.error.details).toEqual({ runId });

    await withWorkers(
      t.ctx,
      async () => {
        const state = await untilPhase(t.ctx.temporal, runId, ['awaiting_approval']);
        expect(state.reserved).toEqual({ count: 3, amount: String(share * 3n) });
        for (const id of ids) expect(await earningsOf(db, id)).toEqual({ available: 0n, reserved: share });
        // Four eyes still hold: the colleague approves the run the dead API started for the starter.
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/approve`, { headers: starter.auth, body: {} })).status).toBe(403);
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/cancel`, { headers: colleague.auth })).status).toBe(202);
        await untilPhase(t.ctx.temporal, runId, ['cancelled']);
      },
      { media: false },
    );
    for (const id of ids) expect(await earningsOf(db, id)).toEqual({ available: share, reserved: 0n });
    await db.insertInto('payout_holds').values(ids.map((id) => ({ user_id: id, reason: 'test done' }))).execute();
  }, 180_000);

  it('is started by a GET of the run (the window simulated: a row and no workflow)', async () => {
    const starter = await financeUser();
    const runId = randomUUID();
    await openRun(t.ctx.db, { runId, currency: 'EUR', minimumAmount: 5000n, startedBy: starter.id });
    await expect(handleOf(runId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: starter.auth, body: { currency: 'EUR' } })).status).toBe(409);

    await withWorkers(
      t.ctx,
      async () => {
        const shown = await call(t.app, 'GET', `/api/v1/finance/payout-runs/${runId}`, { headers: starter.auth });
        expect(shown.status).toBe(200);
        expect(shown.json.data.run).toMatchObject({ id: runId, status: 'selecting' });
        // Nobody in EUR is eligible: the resumed run reserves nothing and completes, freeing the currency.
        await until(async () => (await runRow(runId))?.status === 'completed', 'the resumed run to complete', 60_000);
        const next = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: starter.auth, body: { currency: 'EUR' } });
        expect(next.status).toBe(202);
        await until(async () => (await runRow(next.json.data.id))?.status === 'completed', 'the next run to complete', 60_000);
      },
      { media: false },
    );
    expect((await handleOf(runId).describe()).status.name).toBe('COMPLETED');
  }, 180_000);
});
