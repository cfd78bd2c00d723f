import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestApp } from '../support/context.ts';
import { newUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

// A failure inside the platform reaches the client as a stable code and our own sentence,
// never as the text of the error that caused it (that goes to the log).

const t = useTestApp();

describe('internal errors stay internal', () => {
  it('a stream whose workflow cannot start: 503 in our words, nothing from Temporal', async () => {
    const temporal = { ...t.ctx.temporal, client: new Client({ connection: t.ctx.temporal.connection, namespace: `no-such-namespace-${t.ctx.id}` }) };
    const app = createApp({ ...t.ctx.apiDeps(), temporal });
    const creator = await newUser(app);
    const res = await call(app, 'POST', '/api/v1/streams', { body: { title: 'Doomed' }, headers: creator.auth });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ success: false, error: { code: 'unavailable', message: 'Could not start the stream; try again' } });
  });

  it('a stream whose workflow is gone cannot be changed, and says so in our words', async () => {
    const creator = await newUser(t.app);
    const created = await call(t.app, 'POST', '/api/v1/streams', { body: { title: 'Short lived' }, headers: creator.auth });
    expect(created.status).toBe(201);
    await t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(created.json.data.id)).terminate('test');
    const res = await call(t.app, 'PATCH', `/api/v1/streams/${created.json.data.id}`, { body: { title: 'Renamed' }, headers: creator.auth });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({ success: false, error: { code: 'conflict', message: 'The stream is already over' } });
  });
});
