import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { withTimeout } from '../../lib/async.ts';
import { createDb, type Db } from '../../lib/db.ts';
import { migrateToLatest } from '../../lib/migrate.ts';
import type { NotificationEvent } from '../../lib/notifications.ts';
import { fanoutProgressQuery, type fanoutWorkflow } from '../../workflows/fanout.ts';
import { ensureDatabase } from '../../scripts/stack/provision.ts';
import { useTestContext, type TestContext } from '../support/context.ts';
import { insertFollowers, newUser, type TestUser } from '../support/fixtures.ts';
import { until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { startPrivatePostgres, type PrivateServer } from '../support/private-services.ts';
import { withWorkers } from '../support/workers.ts';

// Postgres killed (SIGKILL: no clean shutdown) and restarted under load, or hung (SIGSTOP,
// as when its host stops answering). The API answers 503 `unavailable` while it is away
// instead of 500s or hanging, and recovers on its own once it is back; a workflow writing to
// it carries on. The cluster is this file's own, so this disturbs no other test file.

const t = useTestContext();
let postgres: PrivateServer & { url(database?: string): string };
let db: Db;
let ctx: TestContext;
let app: App;
let user: TestUser;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  const url = postgres.url('streamhub');
  await ensureDatabase(url);
  const migrator = createDb({ url, poolMax: 1, applicationName: 'test-postgres-restart-migrate' });
  await migrateToLatest(migrator).finally(() => migrator.destroy());
  // Short bounds, so that waiting out a hung Postgres is quick here.
  const postgresConfig = { ...t.ctx.config.postgres, url, poolMax: 5, connectTimeoutMs: 4000, queryTimeoutMs: 4000 };
  db = createDb({ ...postgresConfig, applicationName: 'test-postgres-restart' });
  const config = { ...t.ctx.config, postgres: postgresConfig };
  ctx = { ...t.ctx, config, db };
  app = createApp({ ...t.ctx.apiDeps(), config, db });
  user = await newUser(app);
});
afterAll(async () => {
  await db?.destroy();
  await postgres?.remove();
});

type Outcome = { status: number; code?: string; message?: string };

/** Calls that need Postgres: the general rate limit and token check on each, then their own reads and writes. */
const calls = () => [
  call(app, 'GET', '/api/v1/users/me', { headers: user.auth }),
  call(app, 'GET', `/api/v1/users/${user.username}`),
  call(app, 'GET', '/api/v1/categories'),
  call(app, 'PATCH', '/api/v1/users/me', { headers: user.auth, body: { displayName: 'Still here' } }),
];

async function outcomes(): Promise<Outcome[]> {
  return (await Promise.all(calls())).map((r) => ({ status: r.status, code: r.json?.error?.code, message: r.json?.error?.message }));
}

const unavailable = { status: 503, code: 'unavailable', message: 'Service temporarily unavailable; try again shortly' };

describe('Postgres restart', { timeout: 120_000 }, () => {
  it('answers 503 unavailable while Postgres is gone and recovers without an API restart', async () => {
    expect((await outcomes()).map((o) => o.status)).toEqual([200, 200, 200, 200]);

    // Clients keep calling throughout; every answer they get is recorded.
    const seen: Outcome[] = [];
    let stop = false;
    let killedAt = -1;
    const clients = Array.from({ length: 3 }, async () => {
      while (!stop) seen.push(...(await outcomes()));
    });
    try {
      await until(() => seen.length >= 40, 'answers before the kill', 30_000);

      killedAt = seen.length;
      await postgres.kill();
      // Answered while Postgres is still down: an error envelope, not a hang and not a 500.
      expect(await outcomes()).toEqual([unavailable, unavailable, unavailable, unavailable]);
      const health = await call(app, 'GET', '/health', { headers: { 'x-internal-secret': t.ctx.config.internalSecret } });
      expect(health.status).toBe(503);
      expect(health.json.failing).toEqual(['postgres']);
      await until(() => seen.slice(killedAt).some((o) => o.status === 503), 'the load seeing the outage');

      await postgres.restart();
      const restartedAt = seen.length;
      await until(() => seen.slice(restartedAt).filter((o) => o.status === 200).length >= 20, 'answers after the restart', 30_000);
    } finally {
      // Also when an expectation failed: the clients must not outlive the test, nor the outage.
      stop = true;
      await Promise.all(clients);
      await postgres.restart();
    }

    // Nothing but success or the documented 503, before, during and after.
    const kinds = new Set(seen.map((o) => (o.status === 200 ? '200' : `${o.status} ${o.code} ${o.message}`)));
    expect([...kinds].sort()).toEqual(['200', `503 unavailable ${unavailable.message}`]);
    expect((await outcomes()).map((o) => o.status)).toEqual([200, 200, 200, 200]);
  });

  it('answers 503 unavailable while Postgres hangs, and recovers when it answers again', async () => {
    expect((await outcomes()).map((o) => o.status)).toEqual([200, 200, 200, 200]);
    postgres.freeze();
    try {
      // The pool's connections wait for answers that never come, fresh ones for a greeting: the
      // query and connect timeouts turn both into 503s, answered while Postgres still hangs.
      for (let round = 0; round < 3; round++) {
        const answers = await withTimeout(outcomes(), 60_000, 'the API answering while Postgres hangs');
        expect(answers).toEqual([unavailable, unavailable, unavailable, unavailable]);
      }
    } finally {
      postgres.thaw();
    }
    await until(async () => (await outcomes()).every((o) => o.status === 200), 'answers once Postgres answers again', 30_000);
  });

  it('carries a notification fan-out on through a Postgres restart, delivering each notification once', async () => {
    const followers = await insertFollowers(db, user.id, 10_000);
    const event: NotificationEvent = {
      id: `stream_live:restart-${ctx.id}`,
      type: 'stream_live',
      actorId: user.id,
      entityType: 'stream',
      entityId: `restart-${ctx.id}`,
      payload: { title: 'Through a restart' },
    };
    const result = await withWorkers(ctx, async () => {
      const handle = await ctx.temporal.client.workflow.start<typeof fanoutWorkflow>('fanoutWorkflow', {
        workflowId: `fanout/${event.id}`,
        taskQueue: ctx.config.temporal.taskQueue,
        args: [{ event, audience: { kind: 'followers', userId: user.id }, pageSize: 50, parallelPages: 2 }],
      });
      await until(async () => (await handle.query(fanoutProgressQuery)).delivered > 0, 'the first pages delivered', 30_000);
      await postgres.kill();
      // The outage reaches the workflow: a page fails against the dead Postgres and is retried.
      await until(async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => (a.attempt ?? 0) >= 2), 'a page retried', 30_000);
      await postgres.restart();
      return handle.result();
    });

    expect(result.delivered).toBe(followers.length);
    const rows = await db.selectFrom('notifications').select('recipient_id').where('event_id', '=', event.id).execute();
    expect(rows.map((r) => r.recipient_id).sort()).toEqual([...followers].sort());
  });
});
