import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { insertBulkUsers } from '../support/fixtures.ts';
import { useTestContext } from '../support/context.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { accountCode, balancesOf, COIN, credit, debit, lockAccounts, platformAccount, postEntry, postEntryWith, userAccount, type AccountRef } from '../../lib/ledger/index.ts';
import { AppError } from '../../lib/errors.ts';

const t = useTestContext();

const issuance = platformAccount('coin_issuance', COIN);
const wallet = (userId: string) => userAccount('coin_wallet', userId, COIN);
let keys = 0;
const key = (prefix: string) => `${prefix}/${process.pid}/${++keys}`;

/** Mints coins into a wallet the way a paid purchase does (the COIN leg of it). */
const mint = (userId: string, coins: bigint, idempotencyKey = key('mint')) =>
  postEntry(t.ctx.db, { idempotencyKey, kind: 'test.mint', lines: [debit(issuance, coins), credit(wallet(userId), coins)] });
const spend = (userId: string, coins: bigint, idempotencyKey = key('spend')) =>
  postEntry(t.ctx.db, { idempotencyKey, kind: 'test.spend', lines: [debit(wallet(userId), coins), credit(issuance, coins)] });

const count = async (table: 'ledger_entries' | 'ledger_postings') =>
  Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('ledger postings', () => {
  it('posts a balanced entry and returns the balances on each account’s normal side', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    const posted = await mint(user!, 500n);
    expect(posted.replayed).toBe(false);
    expect(posted.balances.get(accountCode(wallet(user!)))).toBe(500n);
    const after = await spend(user!, 120n);
    expect(after.balances.get(accountCode(wallet(user!)))).toBe(380n);
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(380n);
    await expectWholeBooks(t.ctx.db);
  });

  it('posts an idempotency key once: a replay writes nothing and returns the same entry', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    const first = await mint(user!, 300n, `mint/${user}`);
    const [entries, postings] = [await count('ledger_entries'), await count('ledger_postings')];
    const again = await mint(user!, 300n, `mint/${user}`);
    expect(again).toMatchObject({ entryId: first.entryId, replayed: true });
    expect(again.balances.get(accountCode(wallet(user!)))).toBe(300n);
    expect([await count('ledger_entries'), await count('ledger_postings')]).toEqual([entries, postings]);
  });

  it('refuses a key replayed with other postings (a bug, not a retry)', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 300n, `mint-twice/${user}`);
    await expect(mint(user!, 301n, `mint-twice/${user}`)).rejects.toMatchObject({ code: 'conflict' });
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(300n);
  });

  it('refuses an overdraft of a wallet with insufficient_funds and keeps nothing of the entry', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 100n);
    const entries = await count('ledger_entries');
    const err = await spend(user!, 101n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'insufficient_funds', status: 409 });
    expect(await count('ledger_entries')).toBe(entries);
    expect((await spend(user!, 100n)).balances.get(accountCode(wallet(user!)))).toBe(0n);
    await expectWholeBooks(t.ctx.db);
  });

  it('commits a business write and its entry together, or neither', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 50n);
    const before = await count('ledger_entries');
    await expect(
      t.ctx.db.transaction().execute(async (tx) => {
        const balances = await lockAccounts(tx, [wallet(user!), issuance]);
        expect(balances.get(accountCode(wallet(user!)))).toBe(50n);
        await postEntry(tx, { idempotencyKey: key('rolled-back'), kind: 'test.spend', lines: [debit(wallet(user!), 50n), credit(issuance, 50n)] });
        throw new Error('the business write failed');
      }),
    ).rejects.toThrow('the business write failed');
    expect(await count('ledger_entries')).toBe(before);
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(50n);
  });
});

describe('ledger accounts and entry ids', () => {
  it('creates again an account whose first entry rolled back (no stale id is remembered)', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(
        t.ctx.db.transaction().execute(async (tx) => {
          await postEntry(tx, { idempotencyKey: key('rolled-back-mint'), kind: 'test.mint', lines: [debit(issuance, 5n), credit(wallet(user!), 5n)] });
          throw new Error('the business write failed');
        }),
      ).rejects.toThrow('the business write failed');
    }
    const { rows } = await sql`select 1 from ledger_accounts where code = ${accountCode(wallet(user!))}`.execute(t.ctx.db);
    expect(rows).toEqual([]);
    // Outside a transaction, and again once the account is known: both post.
    expect((await mint(user!, 7n)).balances.get(accountCode(wallet(user!)))).toBe(7n);
    expect((await mint(user!, 3n)).balances.get(accountCode(wallet(user!)))).toBe(10n);
    expect((await spend(user!, 10n)).balances.get(accountCode(wallet(user!)))).toBe(0n);
    await expect(spend(user!, 1n)).rejects.toMatchObject({ code: 'insufficient_funds' });
    await expectWholeBooks(t.ctx.db);
  });

  it('takes the entry id the caller chose, and answers a replay with the id posted first', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    const entryId = '00000000-0000-4000-8000-0000000000e1';
    const idempotencyKey = key('chosen-id');
    const lines = [debit(issuance, 4n), credit(wallet(user!), 4n)];
    expect(await postEntry(t.ctx.db, { entryId, idempotencyKey, kind: 'test.mint', lines })).toMatchObject({ entryId, replayed: false });
    const again = await postEntry(t.ctx.db, { entryId: '00000000-0000-4000-8000-0000000000e2', idempotencyKey, kind: 'test.mint', lines });
    expect(again).toMatchObject({ entryId, replayed: true });
  });
});

describe('posting with a claim (business rows written in the entry’s statement)', () => {
  const claimPing = (id: string) => [
    { name: 'claim_ping', query: sql`insert into system_pings (id, workflow_id) values (${id}, 'ledger-claim') on conflict (id) do nothing returning id, workflow_id` },
  ];
  const pings = async (id: string) => (await sql`select 1 from system_pings where id = ${id}`.execute(t.ctx.db)).rows.length;

  it('posts only when the claim writes a row, answering that row; a claim already taken posts nothing', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 10n);
    const ping = key('ping');
    const first = await postEntryWith(t.ctx.db, { idempotencyKey: key('claimed'), kind: 'test.spend', lines: [debit(wallet(user!), 4n), credit(issuance, 4n)] }, claimPing(ping));
    expect(first).toMatchObject({ replayed: false, claimed: { id: ping, workflow_id: 'ledger-claim' } });
    expect(first!.balances.get(accountCode(wallet(user!)))).toBe(6n);
    const entries = await count('ledger_entries');
    const again = await postEntryWith(t.ctx.db, { idempotencyKey: key('claimed'), kind: 'test.spend', lines: [debit(wallet(user!), 4n), credit(issuance, 4n)] }, claimPing(ping));
    expect(again).toBeUndefined();
    expect(await count('ledger_entries')).toBe(entries);
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(6n);
  });

  it('keeps neither the claim nor the entry when the entry is refused', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 10n);
    const ping = key('ping');
    const overdraft = postEntryWith(t.ctx.db, { idempotencyKey: key('overdraft'), kind: 'test.spend', lines: [debit(wallet(user!), 11n), credit(issuance, 11n)] }, claimPing(ping));
    await expect(overdraft).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(await pings(ping)).toBe(0);
    await expectWholeBooks(t.ctx.db);
  });
});

describe('ledger invariants held by the database itself', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of entries and postings, and hand edits of account totals or their shards', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 70n);
    const refused = [
      sql`update ledger_postings set amount = amount + 1`,
      sql`update ledger_entries set kind = 'edited'`,
      sql`delete from ledger_postings`,
      sql`delete from ledger_entries`,
      sql`truncate ledger_postings`,
      sql`truncate ledger_entries cascade`,
      sql`update ledger_accounts set credits_posted = credits_posted + 1000`,
      // Nor can an account (and its balance) be handed to another owner or kind.
      sql`update ledger_accounts set owner_id = null where owner_id is not null`,
      sql`update ledger_accounts set kind = 'earnings_available' where kind = 'coin_wallet'`,
      sql`delete from ledger_accounts`,
      // The platform's sharded totals (coin issuance here) are as guarded as an account's own.
      sql`update ledger_account_shards set debits_posted = debits_posted + 1000`,
      sql`insert into ledger_account_shards (account_id, shard, debits_posted, credits_posted) select id, 15, 1000, 0 from ledger_accounts limit 1`,
      sql`delete from ledger_account_shards`,
      sql`truncate ledger_account_shards`,
    ];
    for (const statement of refused) {
      await expect(statement.execute(t.ctx.db), statement.compile(t.ctx.db).sql).rejects.toMatchObject({ code: 'SHL02' });
    }
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(70n);
    await expectWholeBooks(t.ctx.db);
  });

  it('refuses at commit an entry written by hand that does not balance, or has one posting', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 10n);
    const ids = await sql<{ id: string; code: string }>`select id, code from ledger_accounts where code in (${accountCode(wallet(user!))}, ${accountCode(issuance)})`.execute(t.ctx.db);
    const id = (ref: AccountRef) => ids.rows.find((r) => r.code === accountCode(ref))!.id;
    const handWritten = (postings: [AccountRef, 'debit' | 'credit', number][]) =>
      t.ctx.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ id: string }>`insert into ledger_entries (idempotency_key, kind, fingerprint) values (${key('hand')}, 'test.hand', '-') returning id`.execute(tx);
        for (const [ref, side, amount] of postings) {
          await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${rows[0]!.id}, ${id(ref)}, ${COIN}, ${side}, ${amount})`.execute(tx);
        }
      });
    await expect(handWritten([[issuance, 'debit', 5], [wallet(user!), 'credit', 4]])).rejects.toMatchObject({ code: 'SHL03' });
    await expect(handWritten([[issuance, 'debit', 5]])).rejects.toMatchObject({ code: 'SHL03' });
    await handWritten([[issuance, 'debit', 5], [wallet(user!), 'credit', 5]]);
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(15n);
    await expectWholeBooks(t.ctx.db);
  });

  it('refuses a posting added later to an entry committed before, even a balanced pair', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    const { entryId } = await mint(user!, 10n);
    const ids = await sql<{ id: string; code: string }>`select id, code from ledger_accounts where code in (${accountCode(wallet(user!))}, ${accountCode(issuance)})`.execute(t.ctx.db);
    const id = (ref: AccountRef) => ids.rows.find((r) => r.code === accountCode(ref))!.id;
    const late = sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${entryId}, ${id(wallet(user!))}, ${COIN}, 'credit', 1000)`;
    await expect(late.execute(t.ctx.db)).rejects.toMatchObject({ code: 'SHL03' });
    const pair = t.ctx.db.transaction().execute(async (tx) => {
      await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${entryId}, ${id(issuance)}, ${COIN}, 'debit', 1000)`.execute(tx);
      await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${entryId}, ${id(wallet(user!))}, ${COIN}, 'credit', 1000)`.execute(tx);
    });
    await expect(pair).rejects.toMatchObject({ code: 'SHL03' });
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(10n);
    await expectWholeBooks(t.ctx.db);
  });

  it('takes postings written in a savepoint after their entry’s, and checks the entry at commit', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 10n);
    const ids = await sql<{ id: string; code: string }>`select id, code from ledger_accounts where code in (${accountCode(wallet(user!))}, ${accountCode(issuance)})`.execute(t.ctx.db);
    const id = (ref: AccountRef) => ids.rows.find((r) => r.code === accountCode(ref))!.id;
    const inSavepoints = (credit: number) =>
      t.ctx.db.transaction().execute(async (tx) => {
        await sql`savepoint entry`.execute(tx);
        const { rows } = await sql<{ id: string }>`insert into ledger_entries (idempotency_key, kind, fingerprint) values (${key('sp')}, 'test.savepoint', '-') returning id`.execute(tx);
        await sql`release savepoint entry`.execute(tx);
        await sql`savepoint postings`.execute(tx);
        await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${rows[0]!.id}, ${id(issuance)}, ${COIN}, 'debit', 5)`.execute(tx);
        await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${rows[0]!.id}, ${id(wallet(user!))}, ${COIN}, 'credit', ${credit})`.execute(tx);
        await sql`release savepoint postings`.execute(tx);
      });
    await expect(inSavepoints(4)).rejects.toMatchObject({ code: 'SHL03' });
    await inSavepoints(5);
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(15n);
    await expectWholeBooks(t.ctx.db);
  });

  it('refuses a posting in another currency than its account', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    await mint(user!, 10n);
    const { rows } = await sql<{ id: string }>`select id from ledger_accounts where code = ${accountCode(wallet(user!))}`.execute(t.ctx.db);
    const attempt = t.ctx.db.transaction().execute(async (tx) => {
      const entry = await sql<{ id: string }>`insert into ledger_entries (idempotency_key, kind, fingerprint) values (${key('fx')}, 'test.fx', '-') returning id`.execute(tx);
      await sql`insert into ledger_postings (entry_id, account_id, currency, side, amount) values (${entry.rows[0]!.id}, ${rows[0]!.id}, 'USD', 'credit', 1)`.execute(tx);
    });
    await expect(attempt).rejects.toMatchObject({ code: '23503' });
  });
});

describe('ledger under concurrency', () => {
  it('50 parallel spends from a wallet holding exactly 20 of them: 20 succeed, 30 insufficient_funds, balance 0', async () => {
    const [user] = await insertBulkUsers(t.ctx.db, 1);
    const price = 25n;
    await mint(user!, 20n * price);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => spend(user!, price)));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(failures).toHaveLength(30);
    for (const f of failures) expect(f).toMatchObject({ code: 'insufficient_funds' });
    expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(0n);
    await expectWholeBooks(t.ctx.db);
  });

  it('creates an account once when many first postings to it race, and every one of them posts', async () => {
    for (let round = 0; round < 5; round++) {
      const [user] = await insertBulkUsers(t.ctx.db, 1);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => mint(user!, 1n)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect((await balancesOf(t.ctx.db, [wallet(user!)])).get(accountCode(wallet(user!)))).toBe(8n);
    }
    await expectWholeBooks(t.ctx.db);
  });

  it('transfers between the same accounts in opposite directions do not deadlock', async () => {
    const [a, b] = await insertBulkUsers(t.ctx.db, 2);
    await mint(a!, 1000n);
    await mint(b!, 1000n);
    const transfer = (from: string, to: string) =>
      postEntry(t.ctx.db, { idempotencyKey: key('transfer'), kind: 'test.transfer', lines: [debit(wallet(from), 1n), credit(wallet(to), 1n)] });
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? transfer(a!, b!) : transfer(b!, a!))));
    const balances = await balancesOf(t.ctx.db, [wallet(a!), wallet(b!)]);
    expect([balances.get(accountCode(wallet(a!))), balances.get(accountCode(wallet(b!)))]).toEqual([1000n, 1000n]);
    await expectWholeBooks(t.ctx.db);
  });
});

describe('ledger properties (fast-check, against Postgres)', () => {
  it('after any sequence of mints, spends, transfers and replays the ledger is whole and balances match a model', async () => {
    const users = await insertBulkUsers(t.ctx.db, 3);
    const op = fc.oneof(
      fc.record({ type: fc.constant('mint' as const), user: fc.nat(2), amount: fc.bigInt(1n, 500n) }),
      fc.record({ type: fc.constant('spend' as const), user: fc.nat(2), amount: fc.bigInt(1n, 500n) }),
      fc.record({ type: fc.constant('transfer' as const), user: fc.nat(2), to: fc.nat(2), amount: fc.bigInt(1n, 500n) }),
      fc.record({ type: fc.constant('replay' as const), back: fc.nat(10) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        run++;
        const start = await balancesOf(t.ctx.db, users.map(wallet));
        const model = new Map(users.map((u) => [u, start.get(accountCode(wallet(u)))!]));
        const done: { key: string; lines: ReturnType<typeof debit>[]; kind: string }[] = [];
        for (const [i, o] of ops.entries()) {
          let attempt: { key: string; lines: ReturnType<typeof debit>[]; kind: string; effect: [string, bigint][] };
          if (o.type === 'replay') {
            const earlier = done[done.length - 1 - (o.back % Math.max(done.length, 1))];
            if (!earlier) continue;
            const replayed = await postEntry(t.ctx.db, { idempotencyKey: earlier.key, kind: earlier.kind, lines: earlier.lines });
            expect(replayed.replayed).toBe(true);
            continue;
          }
          const user = users[o.user]!;
          const k = `prop/${run}/${i}`;
          if (o.type === 'mint') attempt = { key: k, kind: 'test.mint', lines: [debit(issuance, o.amount), credit(wallet(user), o.amount)], effect: [[user, o.amount]] };
          else if (o.type === 'spend') attempt = { key: k, kind: 'test.spend', lines: [debit(wallet(user), o.amount), credit(issuance, o.amount)], effect: [[user, -o.amount]] };
          else {
            const to = users[o.to]!;
            attempt = { key: k, kind: 'test.transfer', lines: [debit(wallet(user), o.amount), credit(wallet(to), o.amount)], effect: [[user, -o.amount], [to, o.amount]] };
          }
          const next = new Map(model);
          for (const [u, delta] of attempt.effect) next.set(u, next.get(u)! + delta);
          const allowed = [...next.values()].every((b) => b >= 0n);
          const result = await postEntry(t.ctx.db, { idempotencyKey: attempt.key, kind: attempt.kind, lines: attempt.lines }).then(
            () => 'posted',
            (e: AppError) => e.code,
          );
          expect(result).toBe(allowed ? 'posted' : 'insufficient_funds');
          if (allowed) {
            for (const [u, b] of next) model.set(u, b);
            done.push(attempt);
          }
          const actual = await balancesOf(t.ctx.db, users.map(wallet));
          for (const u of users) expect(actual.get(accountCode(wallet(u)))).toBe(model.get(u));
        }
        await expectWholeBooks(t.ctx.db);
      }),
      { numRuns: 25 },
    );
  });
});
