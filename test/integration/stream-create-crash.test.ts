import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { streamStateQuery } from '../../workflows/stream.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { until } from '../support/gateway.ts';
import { startLink, type Link } from '../support/private-services.ts';
import { spawnApiProcess, type ServiceProcess } from '../support/processes.ts';
import { withWorkers } from '../support/workers.ts';

// README: "The `stream/<id>` workflow, started at creation". An API process that dies after
// committing a new stream's row and before Temporal started its workflow (an OOM kill, a
// deploy) must not leave a stream without its workflow: nothing would ever cancel it,
// remind its followers or take its end.

const t = useTestContext();
let app: App;
let owner: TestUser;
const started: ServiceProcess[] = [];
let link: Link | undefined;

beforeAll(async () => {
  app = createApp(t.ctx.apiDeps());
  owner = await newUser(app);
});
afterAll(async () => {
  await link?.close();
  await Promise.all(started.map((p) => p.kill()));
});

const streamsOf = (ownerId: string) => t.ctx.db.selectFrom('streams').select(['id', 'title', 'status']).where('owner_id', '=', ownerId).execute();

async function workflowStatus(streamId: string): Promise<string | undefined> {
  try {
    return (await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(streamId)).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

describe('an API process killed while creating a stream', () => {
  it('leaves a stream that gets its workflow once an API process starts again', { timeout: 120_000 }, async () => {
    // The dying process reaches Temporal through a link the test can stall.
    const [host, port] = t.ctx.config.temporal.address.split(':');
    link = await startLink({ host: host!, port: Number(port) });
    const dying = await spawnApiProcess(t.ctx, { TEMPORAL_ADDRESS: `127.0.0.1:${link.port}` });
    started.push(dying);

    link.hold();
    const request = fetch(`http://${dying.host}/api/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: owner.auth.authorization },
      body: JSON.stringify({ title: 'Cut short' }),
    }).then(
      (res) => res.status,
      () => 'no answer',
    );
    // The row is committed and the workflow start is on its way (held): the window to die in.
    await until(async () => (await streamsOf(owner.id)).length === 1, 'the stream row');
    await dying.kill();
    expect(await request).toBe('no answer');
    await link.close();
    link = undefined;

    const [stream] = await streamsOf(owner.id);
    expect(stream).toMatchObject({ title: 'Cut short', status: 'idle' });
    expect(await workflowStatus(stream!.id)).toBeUndefined();

    // Another API process starts (the restarted one, or the next deploy).
    started.push(await spawnApiProcess(t.ctx));
    await until(async () => (await workflowStatus(stream!.id)) === 'RUNNING', 'the stream’s workflow', 30_000);
    // A live workflow of that stream, not a stand-in: it answers and changes the stream's info.
    await withWorkers(
      t.ctx,
      async () => {
        const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(stream!.id));
        expect(await handle.query(streamStateQuery)).toMatchObject({ status: 'idle', sessions: 0 });
        const renamed = await fetch(`http://${started.at(-1)!.host}/api/v1/streams/${stream!.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', authorization: owner.auth.authorization },
          body: JSON.stringify({ title: 'Recovered' }),
        });
        expect(renamed.status).toBe(200);
      },
      { media: false },
    );
    expect(await streamsOf(owner.id)).toEqual([{ id: stream!.id, title: 'Recovered', status: 'idle' }]);
  });
});
