import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createDb } from '../lib/db.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertFollowers } from '../test/support/fixtures.ts';
import type { NotificationEvent } from '../lib/notifications.ts';
import type { fanoutWorkflow } from '../workflows/fanout.ts';
import { workflowIds } from '../workflows/ids.ts';

// Fan-out of one event to N followers through the workflow (running workers of `npm start`),
// next to the single bare INSERT … SELECT of the same rows, measured in the same run on the
// same audience. Also the largest history of any run (continue-as-new keeps it small).
// Usage: npm run bench -- fanout [followers…]   (default 100000 1000000)

export async function benchFanout(args: string[]): Promise<void> {
  const sizes = (args.length ? args : ['100000', '1000000']).map(Number);
  const { config } = stackEnvironment();
  const db = createDb({ url: config.postgres.url, poolMax: 4, applicationName: 'bench-fanout' });
  const temporal = await connectTemporal(config.temporal);
  const rows: string[][] = [];
  try {
    for (const size of sizes) {
      const tag = randomBytes(4).toString('hex');
      const star = await db
        .insertInto('users')
        .values({ email: `bench_star_${tag}@example.test`, username: `bench_star_${tag}`, password_hash: 'not-a-hash', display_name: 'Bench star' })
        .returning('id')
        .executeTakeFirstOrThrow();
      process.stdout.write(`\n${size} followers: creating the audience… `);
      const setupStarted = performance.now();
      await insertFollowers(db, star.id, size);
      // Earlier runs leave dead rows behind (their cleanup deletes the audience); start both sides clean.
      await sql`vacuum (analyze) users, follows, notifications`.execute(db);
      process.stdout.write(`${((performance.now() - setupStarted) / 1000).toFixed(1)} s\n`);

      const event = (id: string): NotificationEvent => ({ id, type: 'stream_live', actorId: star.id, entityType: 'stream', entityId: tag, payload: { title: 'bench' } });

      const bareEvent = event(`bench:bare:${tag}`);
      const bareStarted = performance.now();
      const bare = await sql`
        insert into notifications (event_id, recipient_id, type, actor_id, entity_type, entity_id, payload)
        select ${bareEvent.id}, f.follower_id, 'stream_live', ${star.id}::uuid, 'stream', ${tag}, '{"title":"bench"}'::jsonb
        from follows f join users u on u.id = f.follower_id and u.deleted_at is null
        where f.followee_id = ${star.id} and f.notify
          and not exists (select 1 from notification_settings s where s.user_id = f.follower_id and s.type = 'stream_live' and not s.in_app)
        on conflict (event_id, recipient_id) do nothing`.execute(db);
      const bareSeconds = (performance.now() - bareStarted) / 1000;

      const wfEvent = event(`bench:workflow:${tag}`);
      const workflowId = workflowIds.fanout(wfEvent.id);
      const wfStarted = performance.now();
      const result = await temporal.client.workflow.execute<typeof fanoutWorkflow>('fanoutWorkflow', {
        workflowId,
        taskQueue: temporal.taskQueue,
        args: [{ event: wfEvent, audience: { kind: 'followers', userId: star.id } }],
      });
      const wfSeconds = (performance.now() - wfStarted) / 1000;
      const stored = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('event_id', '=', wfEvent.id)
        .executeTakeFirstOrThrow();

      let maxHistory = 0;
      for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        const history = await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        maxHistory = Math.max(maxHistory, history.events?.length ?? 0);
      }
      rows.push([
        String(size),
        bareSeconds.toFixed(2),
        String(Number(bare.numAffectedRows)),
        wfSeconds.toFixed(2),
        String(stored.n),
        (wfSeconds / bareSeconds).toFixed(2),
        String(Math.round(stored.n / wfSeconds)),
        String(result.run),
        String(maxHistory),
      ]);
      process.stdout.write(`  bare ${bareSeconds.toFixed(2)} s, workflow ${wfSeconds.toFixed(2)} s (${result.run} runs, ${result.pages} pages)\n`);

      // The audience and its notifications go; deleting the users cascades to both.
      await sql`delete from users where id in (select follower_id from follows where followee_id = ${star.id})`.execute(db);
      await db.deleteFrom('users').where('id', '=', star.id).execute();
    }
    const header = ['followers', 'bare s', 'bare rows', 'workflow s', 'wf rows', 'wf/bare', 'wf rows/s', 'runs', 'max history'];
    process.stdout.write(`\nfan-out: workflow vs one bare INSERT … SELECT (same audience, same run)\n`);
    process.stdout.write(`${header.map((h) => h.padStart(12)).join('')}\n`);
    for (const row of rows) process.stdout.write(`${row.map((c) => c.padStart(12)).join('')}\n`);
  } finally {
    await db.destroy();
    await temporal.connection.close();
  }
}
