import { randomUUID } from 'node:crypto';
import { createDb } from '../lib/db.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { measure, printTable } from './lib/measure.ts';

// What a durable workflow costs over doing the same database work directly: the ping
// workflow (API → Temporal → platform worker → Postgres → media worker → FFmpeg version)
// next to the bare INSERT … ON CONFLICT + SELECT its activity runs, in the same run.
// Needs a running stack (`npm start`). Usage: npm run bench -- ping [count] [concurrency]

export async function benchPing(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 200);
  const concurrency = Number(args[1] ?? 8);
  const { config } = stackEnvironment();
  const api = `http://${config.api.host}:${config.api.port}`;
  const db = createDb({ url: config.postgres.url, poolMax: concurrency, applicationName: 'bench-ping' });
  const ids: string[] = [];

  const health = await fetch(`${api}/health`).catch(() => undefined);
  if (!health?.ok) throw new Error(`No healthy API at ${api}; run \`npm start\` first`);

  try {
    const sql = await measure('bare SQL: insert + select (baseline)', count, concurrency, async () => {
      const id = randomUUID();
      ids.push(id);
      await db.insertInto('system_pings').values({ id, workflow_id: 'bench' }).onConflict((oc) => oc.column('id').doNothing()).execute();
      await db.selectFrom('system_pings').select(['id', 'created_at']).where('id', '=', id).executeTakeFirstOrThrow();
    });

    const workflow = await measure('ping workflow via API (2 activities)', count, concurrency, async () => {
      const pingId = randomUUID();
      ids.push(pingId);
      const res = await fetch(`${api}/internal/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-internal-secret': config.internalSecret },
        body: JSON.stringify({ pingId }),
      });
      if (!res.ok) throw new Error(`ping failed: ${res.status} ${await res.text()}`);
    });

    printTable(`ping: ${count} operations, concurrency ${concurrency}`, [sql, workflow]);
    process.stdout.write(`\nworkflow p50 / SQL p50: ${(workflow.p50Ms / sql.p50Ms).toFixed(1)}×\n`);
  } finally {
    await db.deleteFrom('system_pings').where('id', 'in', ids).execute();
    await db.destroy();
  }
}
