import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGiftSender, createLeaderboardReader, readLeaderboard } from '../../api/gifts/service.ts';
import { withTimeout } from '../../lib/async.ts';
import { AppError } from '../../lib/errors.ts';
import { giftRequestFingerprint, LEADERBOARD_SIZE } from '../../lib/gifts.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, newUser, type TestUser } from '../support/fixtures.ts';
import { insertStream, until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { fundWallet, giftBySlug, walletBalance } from '../support/money.ts';
import { startLink, type Link } from '../support/private-services.ts';
import { spawnApiProcess, type ServiceProcess } from '../support/processes.ts';

// README (Gifts): sends that arrive while earlier ones are being written are written together,
// one statement and one commit for many (group commit). Each still claims its own key, is
// answered its own wallet balance, and is refused alone when its wallet is short.

const t = useTestApp();
let heart: { id: string; coins: number };
let rose: { id: string; coins: number };
const started: ServiceProcess[] = [];
let link: Link | undefined;

beforeAll(async () => {
  [heart, rose] = [await giftBySlug(t.ctx.db, 'heart'), await giftBySlug(t.ctx.db, 'rose')];
});
afterAll(async () => {
  await link?.close();
  await Promise.all(started.map((p) => p.kill()));
});


/**
 * The commits that wrote these senders' sends, as [sends, senders] per commit (rows written by
 * one transaction share its xmin): more sends than one is a batch, and a batch holds one send per sender.
 */
async function commitsOf(senderIds: string[]): Promise<[number, number][]> {
  const { rows } = await sql<{ sends: string; senders: string }>`
    select count(*)::text as sends, count(distinct sender_id)::text as senders
    from gift_sends where sender_id = any(${senderIds}::uuid[]) group by xmin::text`.execute(t.ctx.db);
  return rows.map((r) => [Number(r.sends), Number(r.senders)]);
}

/** The wallet's balance right after each send, from the send's own ledger posting, by send id. */
async function walletAfterEachSend(senderIds: string[]): Promise<Map<string, number>> {
  const { rows } = await sql<{ id: string; balance_after: string }>`
    select gs.id, p.balance_after::text as balance_after
    from gift_sends gs
    join ledger_postings p on p.entry_id = gs.entry_id
    join ledger_accounts a on a.id = p.account_id and a.kind = 'coin_wallet' and a.owner_id = gs.sender_id
    where gs.sender_id = any(${senderIds}::uuid[])`.execute(t.ctx.db);
  return new Map(rows.map((r) => [r.id, Number(r.balance_after)]));
}

describe('gifts written together (group commit)', () => {
  it('50 gifts at once from 10 wallets holding 3 each: 30 sent in shared commits, 20 refused, every answer its own balance', async () => {
    const creator = await newUser(t.app);
    const streamId = await insertStream(t.ctx, creator.id);
    const senders: TestUser[] = [];
    for (let i = 0; i < 10; i++) senders.push(await newUser(t.app));
    for (const sender of senders) await fundWallet(t.ctx, sender.id, BigInt(3 * rose.coins));

    const requests = senders.flatMap((sender) => Array.from({ length: 5 }, () => sender));
    const answers = await Promise.all(
      requests.map((sender) =>
        call(t.app, 'POST', `/api/v1/streams/${streamId}/gifts`, { body: { giftId: rose.id }, headers: { ...sender.auth, 'idempotency-key': randomUUID() } }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(30);
    expect(answers.filter((a) => a.status === 409 && a.json.error.code === 'insufficient_funds')).toHaveLength(20);
    const ids = senders.map((s) => s.id);
    for (const sender of senders) {
      const own = answers.filter((a, i) => requests[i] === sender && a.status === 201);
      // Each of a sender's three sends saw the wallet after itself: 20, 10 and 0 coins.
      expect(own.map((a) => a.json.data.wallet.balance).sort((a, b) => b - a)).toEqual([2, 1, 0].map((n) => n * rose.coins));
      expect(await walletBalance(t.ctx.db, sender.id)).toBe(0n);
    }
    const after = await walletAfterEachSend(ids);
    for (const answer of answers.filter((a) => a.status === 201)) expect(after.get(answer.json.data.giftSend.id)).toBe(answer.json.data.wallet.balance);
    expect(after.size).toBe(30);
    const commits = await commitsOf(ids);
    expect(commits.some(([sends]) => sends > 1)).toBe(true);
    for (const [sends, senders] of commits) expect(senders).toBe(sends);
    const board = await call(t.app, 'GET', `/api/v1/streams/${streamId}/leaderboard`);
    expect(board.json.data.top.map((e: { userId: string; coins: number }) => [e.userId, e.coins]).sort()).toEqual(ids.map((id) => [id, 3 * rose.coins]).sort());
    await expectWholeBooks(t.ctx.db);
  });

  it('keeps every rule of a send whatever is batched with it: keys, refusals, balances (property)', { timeout: 240_000 }, async () => {
    const send = createGiftSender(t.ctx.db, moneyRules(t.ctx.config));
    const request = fc.record({ sender: fc.nat(2), key: fc.nat(3), stream: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(6), { minLength: 3, maxLength: 3 }),
        fc.array(fc.array(request, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (funding, waves) => {
          const senderIds = await insertBulkUsers(t.ctx.db, 3);
          const streamIds = await Promise.all((await insertBulkUsers(t.ctx.db, 2)).map((creatorId) => insertStream(t.ctx, creatorId)));
          for (const [i, coins] of funding.entries()) if (coins > 0) await fundWallet(t.ctx, senderIds[i]!, BigInt(coins));
          const accepted = new Map<string, { id: string; fingerprint: string; fresh: number }>();
          const refusals: { slot: string; fingerprint: string; code: string }[] = [];

          for (const wave of waves) {
            const asked = wave.map((r) => ({
              slot: `${r.sender}/${r.key}`,
              request: { senderId: senderIds[r.sender]!, streamId: streamIds[r.stream]!, giftId: heart.id, quantity: r.quantity, idempotencyKey: `key-${r.key}` },
            }));
            const outcomes = await Promise.allSettled(asked.map((a) => send(a.request)));
            for (const [i, outcome] of outcomes.entries()) {
              const { slot, request } = asked[i]!;
              const fingerprint = giftRequestFingerprint(request);
              if (outcome.status === 'rejected') {
                if (!(outcome.reason instanceof AppError)) throw outcome.reason;
                expect(['insufficient_funds', 'idempotency_key_reused']).toContain(outcome.reason.code);
                refusals.push({ slot, fingerprint, code: outcome.reason.code });
                continue;
              }
              const sent = outcome.value;
              // One send per key: every answer under it names the same send, and one of them only is not a replay.
              const earlier = accepted.get(slot) ?? { id: sent.giftSend.id, fingerprint, fresh: 0 };
              expect(sent.giftSend.id).toBe(earlier.id);
              expect(fingerprint).toBe(earlier.fingerprint);
              accepted.set(slot, { ...earlier, fresh: earlier.fresh + (sent.replayed ? 0 : 1) });
            }
            // Every answered balance is the wallet right after that very send.
            const after = await walletAfterEachSend(senderIds);
            for (const outcome of outcomes) if (outcome.status === 'fulfilled') expect(after.get(outcome.value.giftSend.id)).toBe(Number(outcome.value.walletBalance));
          }

          // A request refused as short of coins never had its send written (a batch refused whole
          // is posted again send by send); a key refused as reused holds another request's send.
          for (const refusal of refusals) {
            const send = accepted.get(refusal.slot);
            if (refusal.code === 'insufficient_funds') expect(send?.fingerprint === refusal.fingerprint).toBe(false);
            else expect(send!.fingerprint).not.toBe(refusal.fingerprint);
          }
          for (const send of accepted.values()) expect(send.fresh).toBe(1);
          for (const [sends, senders] of await commitsOf(senderIds)) expect(senders).toBe(sends);
          const rows = await t.ctx.db.selectFrom('gift_sends').select(['id', 'sender_id', 'stream_id', 'coins']).where('sender_id', 'in', senderIds).execute();
          expect(rows.map((r) => r.id).sort()).toEqual([...accepted.values()].map((a) => a.id).sort());
          for (const [i, senderId] of senderIds.entries()) {
            const spent = rows.filter((r) => r.sender_id === senderId).reduce((sum, r) => sum + Number(r.coins), 0);
            expect(await walletBalance(t.ctx.db, senderId)).toBe(BigInt(funding[i]! - spent));
          }
          const totals = await t.ctx.db.selectFrom('stream_gift_totals').select(['stream_id', 'sender_id', 'coins']).where('sender_id', 'in', senderIds).execute();
          const expected = new Map<string, number>();
          for (const r of rows) expected.set(`${r.stream_id}/${r.sender_id}`, (expected.get(`${r.stream_id}/${r.sender_id}`) ?? 0) + Number(r.coins));
          expect(new Map(totals.map((r) => [`${r.stream_id}/${r.sender_id}`, Number(r.coins)]))).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
    await expectWholeBooks(t.ctx.db);
  });
});

describe('context reads together', () => {
  it('refuses each send of a shared read for its own reason, and lets the good one through', async () => {
    const creator = await newUser(t.app);
    const [live, ended] = [await insertStream(t.ctx, creator.id), await insertStream(t.ctx, creator.id, 'ended')];
    const [good, late, banned, lost, unknownGift] = await Promise.all(Array.from({ length: 5 }, () => newUser(t.app)));
    for (const sender of [good!, late!, banned!, lost!, unknownGift!, creator]) await fundWallet(t.ctx, sender.id, 1000n);
    const banning = await call(t.app, 'PUT', `/api/v1/users/${creator.id}/channel/restrictions/${banned!.id}`, { headers: creator.auth, body: { type: 'ban', reason: 'spam' } });
    expect(banning.status, banning.text).toBe(200);

    const send = createGiftSender(t.ctx.db, moneyRules(t.ctx.config));
    const request = (sender: TestUser, streamId: string, giftId = heart.id) => ({ senderId: sender.id, streamId, giftId, quantity: 1, idempotencyKey: randomUUID() });
    // The first read goes alone; the six asked while it runs are read together, in the next statement.
    const outcomes = await Promise.allSettled([
      send(request(good!, live)),
      send(request(late!, ended)),
      send(request(banned!, live)),
      send(request(lost!, randomUUID())),
      send(request(unknownGift!, live, randomUUID())),
      send(request(creator, live)),
      send(request(good!, live)),
    ]);
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'sent' : (o.reason as AppError).code));
    expect(codes).toEqual(['sent', 'stream_not_live', 'forbidden', 'not_found', 'validation_failed', 'own_stream', 'sent']);
    expect(await walletBalance(t.ctx.db, good!.id)).toBe(1000n - 2n * BigInt(heart.coins));
    for (const refused of [late!, banned!, lost!, unknownGift!, creator]) expect(await walletBalance(t.ctx.db, refused.id)).toBe(1000n);
  });
});

describe('leaderboard reads together', () => {
  it('answers each broadcast its own top, read after the question: one statement for many', async () => {
    const send = createGiftSender(t.ctx.db, moneyRules(t.ctx.config));
    const batches: number[] = [];
    const readTop = createLeaderboardReader(t.ctx.db, (size) => batches.push(size));
    const senderIds = await insertBulkUsers(t.ctx.db, 12);
    const streamIds = await Promise.all((await insertBulkUsers(t.ctx.db, 4)).map((creatorId) => insertStream(t.ctx, creatorId)));
    for (const id of senderIds) await fundWallet(t.ctx, id, 1000n);
    // Streams 0–2 get gifts of different sizes from different senders; stream 3 none.
    for (const [i, senderId] of senderIds.entries()) {
      await send({ senderId, streamId: streamIds[i % 3]!, giftId: heart.id, quantity: 1 + (i % 5), idempotencyKey: randomUUID() });
    }
    const asked = [...streamIds, streamIds[0]!, streamIds[1]!];
    const tops = await Promise.all(asked.map((id) => readTop(id)));
    for (const [i, id] of asked.entries()) expect(tops[i]).toEqual(await readLeaderboard(t.ctx.db, id, LEADERBOARD_SIZE));
    expect(tops[3]).toEqual([]);
    expect(batches).toEqual([1, asked.length - 1]);
    expect(tops[0]!.map((e) => e.userId).sort()).toEqual(senderIds.filter((_, i) => i % 3 === 0).sort());

    // A read asked after a send committed sees it, whatever read was under way.
    const underWay = readTop(streamIds[3]!);
    await send({ senderId: senderIds[0]!, streamId: streamIds[3]!, giftId: heart.id, quantity: 1, idempotencyKey: randomUUID() });
    const after = await readTop(streamIds[3]!);
    await underWay;
    expect(after.map((e) => [e.userId, e.coins])).toEqual([[senderIds[0], heart.coins]]);
  });
});

describe('an API process killed while a batch of gifts is being written', () => {
  it('leaves each send either committed, and answered on retry, or absent; never twice', { timeout: 240_000 }, async () => {
    const creator = await newUser(t.app);
    const streamId = await insertStream(t.ctx, creator.id);
    const senders: TestUser[] = [];
    for (let i = 0; i < 12; i++) senders.push(await newUser(t.app));
    const funding = 1000n;
    for (const sender of senders) await fundWallet(t.ctx, sender.id, funding);

    // The dying process reaches Postgres through a link that holds the answer to a statement
    // carrying two or more of this test's keys in one array: a batch, committed and never heard of.
    const run = randomUUID().slice(0, 8);
    const db = new URL(t.ctx.config.postgres.url);
    link = await startLink({ host: db.hostname, port: Number(db.port || 5432) });
    db.host = `127.0.0.1:${link.port}`;
    const dying = await spawnApiProcess(t.ctx, { DATABASE_URL: db.toString(), RATE_LIMIT_GIFTS_PER_MINUTE: '100000' });
    started.push(dying);

    const sent = new Map<string, { sender: TestUser; key: string; status: number | 'no answer'; id?: string }>();
    const post = (host: string, sender: TestUser, key: string) =>
      fetch(`http://${host}/api/v1/streams/${streamId}/gifts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: sender.auth.authorization, 'idempotency-key': key },
        body: JSON.stringify({ giftId: heart.id }),
      });
    // Two rounds first, answered: the process then knows every account, and a batch is one
    // statement that commits by itself (a send to an account it has not seen yet is written in a
    // transaction, whose commit a held answer would keep from ever being sent).
    for (const round of [0, 1]) {
      await Promise.all(
        senders.map(async (sender, s) => {
          const key = `kill-${run}-${s}-${round}`;
          const res = await post(dying.host, sender, key);
          expect(res.status).toBe(201);
          sent.set(key, { sender, key, status: res.status, id: ((await res.json()) as { data: { giftSend: { id: string } } }).data.giftSend.id });
        }),
      );
    }
    link.holdAnswersTo((request) => request.includes(`","kill-${run}-`));
    let dead = false;
    // Each sender gifts again as soon as answered, until the process is gone.
    const loops = senders.map(async (sender, s) => {
      for (let n = 2; !dead; n++) {
        const key = `kill-${run}-${s}-${n}`;
        const attempt = { sender, key, status: 'no answer' as number | 'no answer', id: undefined as string | undefined };
        sent.set(key, attempt);
        try {
          const res = await post(dying.host, sender, key);
          const body = (await res.json()) as { data?: { giftSend: { id: string } } };
          attempt.status = res.status;
          attempt.id = body.data?.giftSend.id;
        } catch {
          return;
        }
      }
    });
    await withTimeout(link.held, 60_000, 'a statement carrying two or more sends');
    const committedUnanswered = async () => {
      const rows = await t.ctx.db.selectFrom('gift_sends').select('idempotency_key').where('idempotency_key', 'like', `kill-${run}-%`).execute();
      return rows.filter((r) => sent.get(r.idempotency_key)?.status === 'no answer').length;
    };
    await until(async () => (await committedUnanswered()) >= 2, 'the held batch to commit', 60_000);
    dead = true;
    await dying.kill();
    await Promise.all(loops);
    await link.close();
    link = undefined;

    const inDoubt = [...sent.values()].filter((a) => a.status === 'no answer');
    const committed = new Set((await t.ctx.db.selectFrom('gift_sends').select('idempotency_key').where('idempotency_key', 'like', `kill-${run}-%`).execute()).map((r) => r.idempotency_key));
    expect(inDoubt.filter((a) => committed.has(a.key)).length).toBeGreaterThanOrEqual(2);

    // The clients retry every send they did not hear about, and one they did, on a new process.
    const fresh = await spawnApiProcess(t.ctx, { RATE_LIMIT_GIFTS_PER_MINUTE: '100000' });
    started.push(fresh);
    const answered = [...sent.values()].find((a) => a.status === 201);
    expect(answered).toBeDefined();
    for (const attempt of [...inDoubt, answered!]) {
      const res = await post(fresh.host, attempt.sender, attempt.key);
      const body = (await res.json()) as { data: { giftSend: { id: string } } };
      // Committed before the kill: answered now as a replay of that very send. Absent: sent now.
      expect(res.status, attempt.key).toBe(committed.has(attempt.key) ? 200 : 201);
      if (attempt.id) expect(body.data.giftSend.id).toBe(attempt.id);
    }

    const rows = await t.ctx.db.selectFrom('gift_sends').select(['idempotency_key', 'sender_id', 'coins']).where('idempotency_key', 'like', `kill-${run}-%`).execute();
    expect(rows.map((r) => r.idempotency_key).sort()).toEqual([...sent.keys()].sort());
    for (const sender of senders) {
      const spent = rows.filter((r) => r.sender_id === sender.id).reduce((sum, r) => sum + BigInt(r.coins), 0n);
      expect(await walletBalance(t.ctx.db, sender.id)).toBe(funding - spent);
    }
    await expectWholeBooks(t.ctx.db);
  });
});
