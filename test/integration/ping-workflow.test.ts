import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { useTestContext } from '../support/context.ts';
import { call } from '../support/http.ts';
import { withWorkers, workflowBundle } from '../support/workers.ts';

const t = useTestContext();

describe('ping workflow: API → Temporal → workers → Postgres and FFmpeg', () => {
  it('runs end to end and stores exactly one row per ping id', async () => {
    const app = createApp(t.ctx.apiDeps());
    const pingId = crypto.randomUUID();
    const headers = { 'x-internal-secret': t.ctx.config.internalSecret };

    const [first, second] = await withWorkers(t.ctx, async () => [
      await call(app, 'POST', '/internal/ping', { body: { pingId }, headers }),
      await call(app, 'POST', '/internal/ping', { body: { pingId }, headers }),
    ]);

    expect(first.status).toBe(200);
    expect(first.json.data).toMatchObject({ pingId, workflowId: `ping/${pingId}` });
    expect(first.json.data.ffmpeg).toMatch(/^ffmpeg version /);
    // Same id, same workflow: the second call returns the stored result, not a new row.
    expect(second.json.data).toEqual(first.json.data);

    const rows = await t.ctx.db.selectFrom('system_pings').selectAll().where('id', '=', pingId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.workflow_id).toBe(`ping/${pingId}`);
    expect(rows[0]!.created_at.toISOString()).toBe(first.json.data.storedAt);
  });

  it('replays its fresh history clean, and the same history altered by one step fails as non-deterministic', async () => {
    const pingId = crypto.randomUUID();
    const workflowId = `ping/${pingId}`;
    await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute('pingWorkflow', {
        workflowId,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ pingId, mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue }],
      }),
    );
    const fresh = JSON.parse(historyToJSON(await t.ctx.temporal.client.workflow.getHandle(workflowId).fetchHistory()));
    // What the history says happened: one activity on each worker's queue, in this order.
    const scheduled = (history: typeof fresh) =>
      history.events
        .filter((e: any) => e.activityTaskScheduledEventAttributes)
        .map((e: any) => [e.activityTaskScheduledEventAttributes.activityType.name, e.activityTaskScheduledEventAttributes.taskQueue.name]);
    expect(scheduled(fresh)).toEqual([
      ['recordPingInDatabase', t.ctx.config.temporal.taskQueue],
      ['reportMediaToolchain', t.ctx.config.temporal.mediaTaskQueue],
    ]);
    const bundle = await workflowBundle();
    const replay = (history: unknown) => Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);

    await expect(replay(fresh)).resolves.toBeUndefined();

    // The same run, except that the workflow had scheduled a different first activity: the
    // code does not do that, so replay must refuse it (a replay that cannot fail proves nothing).
    const altered = structuredClone(fresh);
    altered.events.find((e: any) => e.activityTaskScheduledEventAttributes).activityTaskScheduledEventAttributes.activityType.name = 'reportMediaToolchain';
    expect(scheduled(altered)[0]).toEqual(['reportMediaToolchain', t.ctx.config.temporal.taskQueue]);
    await expect(replay(altered)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
