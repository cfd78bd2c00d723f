import { Worker } from '@temporalio/worker';
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

  it('replays its own fresh history deterministically', async () => {
    const pingId = crypto.randomUUID();
    const workflowId = `ping/${pingId}`;
    await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute('pingWorkflow', {
        workflowId,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ pingId, mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue }],
      }),
    );
    const fresh = await t.ctx.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, fresh, workflowId);

  });
});
