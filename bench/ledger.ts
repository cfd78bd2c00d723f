import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { sleep } from '../lib/async.ts';
import { createDb, type Db, type Tx } from '../lib/db.ts';
import { accountCode, auditAccounts, balancesOf, COIN, trialBalance, userAccount } from '../lib/ledger/index.ts';
import { moneyRules } from '../lib/money/config.ts';
import type { Config } from '../lib/config.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { createScratchDatabase } from './api/fixtures.ts';
import { summarizeProfile } from './api/profile.ts';
import { runWrk, wrkInstalled } from './api/wrk.ts';
import { bareTransfer, checkBareBooks, createBareTables, startBareServer } from './ledger/bare.ts';
import { createGiftFixtures, WALLET_COINS, type GiftFixtures } from './ledger/fixtures.ts';
import { writeRotationScript, type ScriptTarget } from './ledger/script.ts';
import { startApi, waitUntilServing } from './lib/api-process.ts';
import { measureFor } from './lib/measure.ts';
import { cpuSeconds, freePort, hostCpuJiffies, stopChild } from './realtime/children.ts';
import { profilesIn } from './realtime/profile.ts';

// Gifts per second through the API, each one ledger transaction (`POST /streams/:id/gifts`:
// auth, the send row, the broadcast's totals, the entry and its four postings, the leaderboard
// read for the room frame), next to the least a transfer can be in the same database: a bare
// SQL transfer (two balance updates, two posting inserts, one transaction) from a pg pool of
// the API's size, and the same transfer behind a bare Hono server; and the API's floor, a
// signed-in read through it, which no gift can beat whatever the ledger does. Two shapes: every sender
// gifting a creator of their own (100 → 100), and everybody gifting one creator (100 → 1).
// Afterwards the books are checked: every currency sums to zero, every account equals its
// postings, every wallet and pending balance is what the sends say.
// Needs Postgres, NATS, Temporal, MinIO and FerretDB of the local stack (`npm run stack:services`) and wrk.
// Usage: npm run bench -- ledger [seconds=10] [connections=50] [--cpu-prof]

const WARMUP_SECONDS = 2;
const API_FLOOR = 'GET /api/v1/streams/:id/leaderboard (signed in): API floor';
const GIFTS = 'POST /api/v1/streams/:id/gifts';
const SENDERS = 100;
const say = (line = '') => process.stdout.write(`${line}\n`);

interface Row {
  shape: string;
  label: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** CPU of the process serving the requests, and of Postgres, per completed operation. */
  serverCpuMicros: number;
  postgresCpuMicros: number;
  /** Share of both cores busy during the phase. */
  hostBusy: number;
  /** Gifts only: sends per ledger statement (group commit), warm-up included. */
  sendsPerStatement?: number;
}

export async function benchLedger(args: string[]): Promise<void> {
  const cpuProfile = args.includes('--cpu-prof');
  const [seconds = 10, connections = 50] = args.filter((a) => !a.startsWith('--')).map(Number);
  if (!(seconds > 0 && Number.isInteger(connections) && connections > 0 && connections <= SENDERS)) {
    throw new Error(`Usage: npm run bench -- ledger [seconds > 0] [connections 1–${SENDERS}] [--cpu-prof]`);
  }
  if (!wrkInstalled()) {
    // Said plainly, before anything is set up: the HTTP rows cannot be measured without it.
    process.stderr.write('bench ledger needs wrk, which is not installed here: `apt-get install -y wrk` (Debian), then run it again.\n');
    process.exitCode = 69;
    return;
  }
  const threads = Math.max(1, Math.min(os.availableParallelism(), connections));
  const { config, env } = stackEnvironment();
  const tag = randomBytes(4).toString('hex');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'streamhub-bench-ledger-'));
  const interrupt = new AbortController();
  const onSigint = () => {
    say('\ninterrupted; cleaning up');
    interrupt.abort();
  };
  process.once('SIGINT', onSigint);
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const scratch = await createScratchDatabase(config, tag, 'ledger');
    cleanups.push(scratch.drop);
    const db = createDb({ url: scratch.url, poolMax: 2, applicationName: 'bench-ledger-setup' });
    cleanups.unshift(() => db.destroy());
    const pool = new pg.Pool({ connectionString: scratch.url, max: config.postgres.poolMax, application_name: 'bench-ledger-bare' });
    cleanups.unshift(() => pool.end());
    say(`ledger: preparing ${SENDERS} funded senders, ${SENDERS + 1} live creators and the bare tables…`);
    const fixtures = await createGiftFixtures(db, config, SENDERS);
    await createBareTables(pool, 2 * SENDERS + 1);
    const bare = await startBareServer(pool);
    cleanups.unshift(bare.close);
    interrupt.signal.throwIfAborted();

    const port = await freePort();
    const logFile = path.join(workDir, 'api.log');
    const api = startApi({
      env: {
        ...env,
        DATABASE_URL: scratch.url,
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        RATE_LIMIT_GENERAL_PER_MINUTE: '1000000000',
        RATE_LIMIT_GIFTS_PER_MINUTE: '1000000000',
      },
      logFile,
      profileDir: cpuProfile ? workDir : undefined,
    });
    cleanups.unshift(() => stopChild(api, 'SIGTERM', 20_000));
    const base = `http://127.0.0.1:${port}`;
    await waitUntilServing(api, `${base}/api/v1/gifts`, logFile);

    say(
      `ledger: ${seconds} s per target after ${WARMUP_SECONDS} s of warm-up, ${connections} concurrent requests (wrk -t${threads} for HTTP), ` +
        `pools of ${config.postgres.poolMax} connections, ${os.availableParallelism()} cores shared by the load, the servers and Postgres`,
    );
    const ownCpu = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    const body = JSON.stringify({ giftId: fixtures.giftId, quantity: 1 });
    const rows: Row[] = [];
    let phase = 0;
    let bareTransfers = 0;
    let giftsAnswered = 0;

    const shapes = [
      { shape: `${SENDERS} senders → ${SENDERS} creators`, receiver: (i: number) => ({ bare: SENDERS + i, stream: fixtures.ownStreams[i]!.streamId }) },
      { shape: `${SENDERS} senders → 1 creator`, receiver: () => ({ bare: 2 * SENDERS, stream: fixtures.hotStream.streamId }) },
    ];
    for (const { shape, receiver } of shapes) {
      const pairs = fixtures.senders.map((sender, i) => ({ sender, from: i, ...receiver(i) }));

      const direct = (i: number) => {
        const pair = pairs[i % pairs.length]!;
        return bareTransfer(pool, pair.from, pair.bare, 1);
      };
      await measureFor('warm-up', WARMUP_SECONDS, connections, direct).then((r) => (bareTransfers += r.count));
      const directRun = await measured(() => measureFor('bare', seconds, connections, direct), ownCpu);
      rows.push({ shape, label: 'bare SQL transfer (pg pool, no HTTP): baseline', ...directRun });
      bareTransfers += directRun.completed;

      const wrkPhase = async (label: string, url: string, targets: ScriptTarget[], serverCpu: () => number, requestBody: string | undefined) => {
        const script = { path: writeRotationScript(path.join(workDir, `phase-${++phase}.lua`), targets, requestBody), args: [`${tag}-${phase}`, String(threads)] };
        const warm = await runWrk(url, { connections, threads, seconds: WARMUP_SECONDS, script: { ...script, args: [`${tag}-${phase}w`, String(threads)] }, signal: interrupt.signal });
        const run = await measured(async () => {
          const r = await runWrk(url, { connections, threads, seconds, script, signal: interrupt.signal });
          return { ...r, perSecond: r.requestsPerSecond, count: r.requests - r.failures };
        }, serverCpu);
        rows.push({ shape, label, ...run });
        return warm.requests - warm.failures + run.completed;
      };
      bareTransfers += await wrkPhase('bare Hono + pg transfer (HTTP)', bare.url, pairs.map((p) => ({ path: `/transfer/${p.from}/${p.bare}` })), ownCpu, body);
      // The least any signed-in request through the API costs here: the token and session check,
      // two prepared reads, the access log. No gift can be cheaper than this, whatever the ledger does.
      // Left out of a profiled run, whose profile is read as the gifts' alone.
      if (!cpuProfile) await wrkPhase(
        API_FLOOR,
        base,
        pairs.map((p) => ({ path: `/api/v1/streams/${p.stream}/leaderboard`, token: p.sender.token })),
        () => cpuSeconds(api.pid!),
        undefined,
      );
      const batchesBefore = await giftBatches(base, config.internalSecret);
      giftsAnswered += await wrkPhase(
        GIFTS,
        base,
        pairs.map((p) => ({ path: `/api/v1/streams/${p.stream}/gifts`, token: p.sender.token })),
        () => cpuSeconds(api.pid!),
        body,
      );
      const batchesAfter = await giftBatches(base, config.internalSecret);
      rows.at(-1)!.sendsPerStatement = (batchesAfter.sends - batchesBefore.sends) / Math.max(1, batchesAfter.statements - batchesBefore.statements);
    }

    printRows(rows);
    say('\nchecking the books…');
    // wrk stops counting at its deadline, not the servers: requests in flight then still commit.
    const inFlight = connections * phase;
    await settled(async () => Number((await pool.query<{ n: string }>('select (select count(*) from gift_sends) + (select count(*) from bench_postings) as n')).rows[0]!.n));
    const ledger = await db.transaction().setIsolationLevel('repeatable read').execute((tx) => checkLedger(tx, config, fixtures));
    const problems = [...ledger.problems, ...(await checkBareBooks(pool))];
    if (ledger.sends < giftsAnswered || ledger.sends > giftsAnswered + inFlight) problems.push(`${giftsAnswered} gifts answered 201 but ${ledger.sends} sends`);
    const postings = Number((await pool.query<{ n: string }>('select count(*)::text as n from bench_postings')).rows[0]!.n);
    if (postings < 2 * bareTransfers || postings > 2 * (bareTransfers + inFlight)) problems.push(`bare postings ${postings} for ${bareTransfers} transfers answered`);
    if (problems.length) {
      for (const p of problems) say(`  FAILED: ${p}`);
      process.exitCode = 1;
    } else {
      say(`  every currency sums to zero, every account equals its postings, ${ledger.sends} sends = ${ledger.sends} gift entries`);
      say(`  (${giftsAnswered} answered 201 before wrk stopped, the rest were in flight), every wallet = ${WALLET_COINS} − its sends,`);
      say(`  every creator's pending = its gifts' value; bare books whole (${postings / 2} transfers)`);
    }

    if (cpuProfile) {
      await stopChild(api, 'SIGTERM', 20_000); // writes the profile
      printProfile(workDir, giftsAnswered);
    }
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
    for (const cleanup of cleanups) await cleanup();
    if (!cpuProfile) rmSync(workDir, { recursive: true, force: true });
  }
}

/** Runs a phase, measuring CPU of its server, of Postgres and of the host around it. */
async function measured(
  run: () => Promise<{ perSecond: number; p50Ms: number; p99Ms: number; failures: number; count: number }>,
  serverCpu: () => number,
): Promise<Omit<Row, 'shape' | 'label'> & { completed: number }> {
  const [server0, pg0, host0] = [serverCpu(), postgresCpu(), hostCpuJiffies()];
  const result = await run();
  const [server1, pg1, host1] = [serverCpu(), postgresCpu(), hostCpuJiffies()];
  const ops = Math.max(1, result.count);
  let pgSeconds = 0;
  for (const [pid, after] of pg1) pgSeconds += after - (pg0.get(pid) ?? 0);
  return {
    perSecond: result.perSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    failures: result.failures,
    completed: result.count,
    serverCpuMicros: (1e6 * (server1 - server0)) / ops,
    postgresCpuMicros: (1e6 * pgSeconds) / ops,
    hostBusy: (host1.busy - host0.busy) / Math.max(1, host1.total - host0.total),
  };
}

/** CPU seconds of every postgres process on the machine (backends, WAL writer, checkpointer …), by pid. */
function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    cpu.set(Number(entry), cpuSeconds(Number(entry)));
  }
  return cpu;
}

/** The API's group-commit totals so far, from its /metrics: gift sends, and the statements that wrote them. */
async function giftBatches(base: string, internalSecret: string): Promise<{ sends: number; statements: number }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${internalSecret}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { sends: value('streamhub_gift_batch_size_sum'), statements: value('streamhub_gift_batch_size_count') };
}

/** Waits until a count stops moving (the servers have finished what was in flight). */
async function settled(count: () => Promise<number>): Promise<void> {
  let last = await count();
  for (;;) {
    await sleep(500);
    const now = await count();
    if (now === last) return;
    last = now;
  }
}

/** The ledger's books in one snapshot; `sends` is how many gifts were committed. */
async function checkLedger(db: Db | Tx, config: Config, fixtures: GiftFixtures): Promise<{ problems: string[]; sends: number }> {
  const problems: string[] = [];
  for (const line of await trialBalance(db)) if (line.difference !== 0n) problems.push(`${line.currency} does not sum to zero: ${line.difference}`);
  for (const a of await auditAccounts(db)) problems.push(`account ${a.code}: totals ${a.totals} ≠ postings ${a.postings}`);
  const counts = await sql<{ sends: string; entries: string }>`
    select (select count(*) from gift_sends)::text as sends, (select count(*) from ledger_entries where kind = 'gift')::text as entries`.execute(db);
  const { sends, entries } = counts.rows[0]!;
  if (sends !== entries) problems.push(`${sends} sends but ${entries} gift entries`);

  const spent = await sql<{ id: string; coins: string }>`select sender_id as id, sum(coins)::text as coins from gift_sends group by sender_id`.execute(db);
  const received = await sql<{ id: string; coins: string }>`select creator_id as id, sum(coins)::text as coins from gift_sends group by creator_id`.execute(db);
  const spentBy = new Map(spent.rows.map((r) => [r.id, BigInt(r.coins)]));
  const receivedBy = new Map(received.rows.map((r) => [r.id, BigInt(r.coins)]));
  const rules = moneyRules(config);
  const wallets = fixtures.senders.map((s) => userAccount('coin_wallet', s.id, COIN));
  const creators = [...fixtures.ownStreams, fixtures.hotStream].map((s) => s.creatorId);
  const pendings = creators.map((id) => userAccount('earnings_pending', id, rules.currency));
  const balances = await balancesOf(db, [...wallets, ...pendings]);
  fixtures.senders.forEach((s, i) => {
    const expected = WALLET_COINS - (spentBy.get(s.id) ?? 0n);
    const actual = balances.get(accountCode(wallets[i]!));
    if (actual !== expected) problems.push(`wallet of ${s.id} holds ${actual}, expected ${expected}`);
  });
  creators.forEach((id, i) => {
    const expected = (receivedBy.get(id) ?? 0n) * rules.coinCreatorValue;
    const actual = balances.get(accountCode(pendings[i]!));
    if (actual !== expected) problems.push(`pending of ${id} is ${actual}, expected ${expected}`);
  });
  return { problems, sends: Number(sends) };
}

function printRows(rows: Row[]): void {
  const columns: [string, number, (r: Row, base: Row, http: Row) => string][] = [
    ['ops/s', 8, (r) => r.perSecond.toFixed(0)],
    ['p50 ms', 8, (r) => r.p50Ms.toFixed(1)],
    ['p99 ms', 8, (r) => r.p99Ms.toFixed(1)],
    ['failed', 7, (r) => String(r.failures)],
    ['of bare SQL', 12, (r, base) => `${((100 * r.perSecond) / base.perSecond).toFixed(0)}%`],
    ['of bare HTTP', 13, (r, _, http) => `${((100 * r.perSecond) / http.perSecond).toFixed(0)}%`],
    ['server µs/op', 13, (r) => r.serverCpuMicros.toFixed(0)],
    ['PG µs/op', 9, (r) => r.postgresCpuMicros.toFixed(0)],
    ['host busy', 10, (r) => `${(100 * r.hostBusy).toFixed(0)}%`],
  ];
  const width = Math.max(...rows.map((r) => r.label.length)) + 2;
  for (const shape of [...new Set(rows.map((r) => r.shape))]) {
    const group = rows.filter((r) => r.shape === shape);
    const [base, http] = [group[0]!, group[1]!];
    say(`\n${shape}`);
    say(`${'target'.padEnd(width)}${columns.map(([title, w]) => title.padStart(w)).join('')}`);
    for (const r of group) say(`${r.label.padEnd(width)}${columns.map(([, w, cell]) => cell(r, base, http).padStart(w)).join('')}`);
    const share = (label: string, of: Row) => `${((100 * group.find((r) => r.label === label)!.perSecond) / of.perSecond).toFixed(0)}%`;
    say(`gifts through the API: ${share(GIFTS, base)} of the bare SQL transfer (target ≥ 50%), ${share(GIFTS, http)} of the bare HTTP one`);
    const gifts = group.find((r) => r.label === GIFTS)!;
    if (gifts.sendsPerStatement !== undefined) say(`gifts were written ${gifts.sendsPerStatement.toFixed(1)} to a statement on average (group commit)`);
    const floor = group.find((r) => r.label === API_FLOOR);
    if (floor) say(`the API's floor (a signed-in read, no ledger): ${share(API_FLOOR, base)} of the bare SQL transfer; gifts run at ${share(GIFTS, floor)} of it`);
  }
  say('\nserver µs/op: CPU of the process serving the operation (the bench itself for the bare rows, the API process for gifts);');
  say('PG µs/op: CPU of every postgres process on the machine, so other work on the machine shows up here too.');
}

function printProfile(dir: string, requests: number): void {
  for (const file of profilesIn(dir)) {
    const { total, owners, functions } = summarizeProfile(file);
    say(`\nAPI CPU profile ${file}: ${total.toFixed(0)} ms serving ${requests} gifts (warm-ups included), ${((1000 * total) / Math.max(1, requests)).toFixed(0)} µs each on the main thread.`);
    say('by owner (µs per gift):');
    for (const { what, ms, share } of owners) say(`${(share * 100).toFixed(1).padStart(6)}% ${((1000 * ms) / requests).toFixed(1).padStart(7)}  ${what}`);
    say('by function (µs per gift):');
    for (const { what, ms, share } of functions) say(`${(share * 100).toFixed(1).padStart(6)}% ${((1000 * ms) / requests).toFixed(1).padStart(7)}  ${what}`);
  }
}
