import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sendGift } from '../api/gifts/service.ts';
import { createDb } from '../lib/db.ts';
import { moneyRules } from '../lib/money/config.ts';
import * as oneCheckPerEntry from '../migrations/2026-12-02-013-money-in-review.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { createScratchDatabase } from './api/fixtures.ts';
import { bareTransfer, createBareTables } from './ledger/bare.ts';
import { createGiftFixtures } from './ledger/fixtures.ts';
import { measureFor } from './lib/measure.ts';
import { cpuSeconds } from './realtime/children.ts';

// The Postgres side of a gift, without HTTP: `sendGift` (the stream/gift/sender lookup and the
// send + totals + entry statement) against the bare SQL transfer, counting the CPU of this
// database's backends per operation, which the machine's other load disturbs far less than
// throughput. Three configurations in the same run, in turn: migration 007's balance checks (one
// per entry and one per posting) with every statement planned at each execution, 013's one check
// per entry, and 013 with the hot statements prepared once per connection.
// Needs Postgres of the local stack. Usage: npm run bench -- ledger-db [seconds=5] [rounds=2] [concurrency=1]

const say = (line = '') => process.stdout.write(`${line}\n`);

export async function benchLedgerDb(args: string[]): Promise<void> {
  const [seconds = 5, rounds = 2, concurrency = 1] = args.map(Number);
  const { config } = stackEnvironment();
  const scratch = await createScratchDatabase(config, randomBytes(4).toString('hex'), 'ledgerdb');
  const prepared = createDb({ url: scratch.url, poolMax: config.postgres.poolMax, applicationName: 'bench-ledger-db' });
  const planned = createDb({ url: scratch.url, poolMax: config.postgres.poolMax, applicationName: 'bench-ledger-db', prepareMarked: false });
  const pool = new pg.Pool({ connectionString: scratch.url, max: config.postgres.poolMax, idleTimeoutMillis: 0 });
  try {
    say('ledger-db: preparing 100 funded senders and their creators…');
    const fixtures = await createGiftFixtures(prepared, config, 100);
    await createBareTables(pool, 201);
    const rules = moneyRules(config);
    const backendCpu = async () => {
      const { rows } = await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
      return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
    };
    const run = async (label: string, task: (i: number) => Promise<void>) => {
      await measureFor('warm-up', 1, concurrency, task);
      const before = await backendCpu();
      const r = await measureFor(label, seconds, concurrency, task);
      let used = 0;
      for (const [pid, after] of await backendCpu()) used += after - (before.get(pid) ?? 0);
      return { perSecond: r.perSecond, cpuMicros: (1e6 * used) / Math.max(1, r.count) };
    };
    const configs = [
      { name: '007 checks, planned each time', migration: 'down', db: planned },
      { name: '013 checks, planned each time', migration: 'up', db: planned },
      { name: '013 checks, prepared', migration: 'up', db: prepared },
    ] as const;
    const rows: { config: string; target: string; perSecond: number; cpuMicros: number; ofBare: number }[] = [];
    let state: 'up' | 'down' = 'up';
    for (let round = 0; round < rounds; round++) {
      for (const c of configs) {
        if (c.migration !== state) await oneCheckPerEntry[c.migration](prepared);
        state = c.migration;
        const bare = await run('bare', (i) => bareTransfer(pool, i % 100, 100 + (i % 100), 1));
        rows.push({ config: c.name, target: 'bare SQL transfer', ...bare, ofBare: 1 });
        for (const [shape, stream] of [['100 → 100', (i: number) => fixtures.ownStreams[i % 100]!.streamId], ['100 → 1', () => fixtures.hotStream.streamId]] as const) {
          const gift = await run(shape, async (i) => {
            await sendGift(c.db, rules, { senderId: fixtures.senders[i % 100]!.id, streamId: stream(i), giftId: fixtures.giftId, quantity: 1, idempotencyKey: randomUUID() });
          });
          rows.push({ config: c.name, target: `gift ${shape}`, ...gift, ofBare: gift.cpuMicros / bare.cpuMicros });
        }
      }
    }
    if (state === 'down') await oneCheckPerEntry.up(prepared);
    say(`\n${seconds} s per target, ${concurrency} at a time, ${rounds} rounds; PG µs/op: CPU of this database's backends per operation`);
    say(`${'configuration'.padEnd(32)}${'target'.padEnd(20)}${'ops/s'.padStart(8)}${'PG µs/op'.padStart(10)}${'× bare'.padStart(8)}`);
    for (const r of rows) say(`${r.config.padEnd(32)}${r.target.padEnd(20)}${r.perSecond.toFixed(0).padStart(8)}${r.cpuMicros.toFixed(0).padStart(10)}${r.ofBare.toFixed(2).padStart(8)}`);
  } finally {
    await pool.end();
    await prepared.destroy();
    await planned.destroy();
    await scratch.drop();
  }
}
