import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createApp } from '../../api/app.ts';
import { sendGift } from '../../api/gifts/service.ts';
import { LEADERBOARD_SIZE } from '../../lib/gifts.ts';
import { accountCode, auditAccounts, balancesOf, platformAccount, trialBalance, userAccount } from '../../lib/ledger/index.ts';
import { moneyRules } from '../../lib/money/config.ts';
import type { StreamStatus } from '../../lib/schema.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, newUser, setRole, setStatus, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { fundWallet, giftBySlug, walletBalance } from '../support/money.ts';

const t = useTestApp();
let creator: TestUser;
let admin: TestUser;
let rose: { id: string; coins: number };

beforeAll(async () => {
  [creator, admin] = [await newUser(t.app), await newUser(t.app)];
  await setRole(t.ctx.db, creator.id, 'creator');
  await setRole(t.ctx.db, admin.id, 'admin');
  rose = await giftBySlug(t.ctx.db, 'rose');
});

const liveStream = (status: StreamStatus = 'live', ownerId = creator.id) => insertStream(t.ctx, ownerId, status);

/** A signed-in viewer with `coins` in their wallet. */
async function funded(coins: number): Promise<TestUser> {
  const user = await newUser(t.app);
  if (coins > 0) await fundWallet(t.ctx, user.id, BigInt(coins));
  return user;
}

const gift = (user: TestUser | undefined, streamId: string, body: Record<string, unknown>, key: string | null = randomUUID()) =>
  call(t.app, 'POST', `/api/v1/streams/${streamId}/gifts`, {
    body,
    headers: { ...(user?.auth ?? {}), ...(key === null ? {} : { 'idempotency-key': key }) },
  });

const pendingOf = async (userId: string) => {
  const ref = userAccount('earnings_pending', userId, t.ctx.config.money.settlementCurrency);
  return (await balancesOf(t.ctx.db, [ref])).get(accountCode(ref))!;
};
const count = async (table: 'ledger_entries' | 'gift_sends') =>
  Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

async function expectWholeLedger() {
  const lines = await trialBalance(t.ctx.db);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.difference, line.currency).toBe(0n);
  expect(await auditAccounts(t.ctx.db)).toEqual([]);
}

describe('gift catalog', () => {
  it('lists the active catalog to anyone, in display order', async () => {
    const res = await call(t.app, 'GET', '/api/v1/gifts');
    expect(res.status).toBe(200);
    expect(res.json.data.map((g: { slug: string }) => g.slug)).toEqual(['heart', 'rose', 'star', 'cake', 'rocket']);
    expect(res.json.data[1]).toEqual({ id: rose.id, slug: 'rose', name: 'Rose', coins: 10, imageUrl: null, active: true, sortOrder: 20 });
  });

  it('is managed by admins only: add, change, retire and bring back', async () => {
    const viewer = await newUser(t.app);
    const body = { slug: 'test-comet', name: 'Comet', coins: 250, imageUrl: 'https://cdn.example.test/comet.png', sortOrder: 45 };
    expect((await call(t.app, 'POST', '/api/v1/gifts', { body })).status).toBe(401);
    expect((await call(t.app, 'POST', '/api/v1/gifts', { body, headers: viewer.auth })).json.error.code).toBe('forbidden');
    const created = await call(t.app, 'POST', '/api/v1/gifts', { body, headers: admin.auth });
    expect(created.status, created.text).toBe(201);
    expect(created.json.data).toMatchObject({ ...body, active: true });
    const id = created.json.data.id;

    expect((await call(t.app, 'POST', '/api/v1/gifts', { body, headers: admin.auth })).status).toBe(409);
    const invalid = await call(t.app, 'POST', '/api/v1/gifts', { body: { slug: 'Bad Slug', name: '', coins: 0 }, headers: admin.auth });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['coins', 'name', 'slug']);

    expect((await call(t.app, 'PATCH', `/api/v1/gifts/${id}`, { body: { active: false }, headers: viewer.auth })).status).toBe(403);
    const retired = await call(t.app, 'PATCH', `/api/v1/gifts/${id}`, { body: { active: false, coins: 300 }, headers: admin.auth });
    expect(retired.json.data).toMatchObject({ id, active: false, coins: 300 });
    const publicList = await call(t.app, 'GET', '/api/v1/gifts');
    expect(publicList.json.data.map((g: { id: string }) => g.id)).not.toContain(id);
    expect((await call(t.app, 'GET', '/api/v1/gifts?includeInactive=true', { headers: viewer.auth })).status).toBe(403);
    const adminList = await call(t.app, 'GET', '/api/v1/gifts?includeInactive=true', { headers: admin.auth });
    expect(adminList.json.data.map((g: { id: string }) => g.id)).toContain(id);

    expect((await call(t.app, 'PATCH', `/api/v1/gifts/${id}`, { body: { active: true }, headers: admin.auth })).json.data.active).toBe(true);
    expect((await call(t.app, 'PATCH', `/api/v1/gifts/${randomUUID()}`, { body: { active: true }, headers: admin.auth })).status).toBe(404);
    await call(t.app, 'PATCH', `/api/v1/gifts/${id}`, { body: { active: false }, headers: admin.auth });
  });
});

describe('sending gifts', () => {
  it('moves coins out of the wallet and their value into the creator’s pending earnings, in one entry', async () => {
    const sender = await funded(100);
    const streamId = await liveStream();
    const pendingBefore = await pendingOf(creator.id);
    const res = await gift(sender, streamId, { giftId: rose.id, quantity: 3 });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data).toEqual({
      giftSend: { id: expect.any(String), streamId, creatorId: creator.id, giftId: rose.id, quantity: 3, coins: 30, createdAt: expect.any(String) },
      wallet: { balance: 70 },
    });
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(70n);
    const rules = moneyRules(t.ctx.config);
    expect(await pendingOf(creator.id)).toBe(pendingBefore + 30n * rules.coinCreatorValue);

    const entry = await t.ctx.db.selectFrom('ledger_entries').selectAll().where('idempotency_key', '=', `gift/${res.json.data.giftSend.id}`).executeTakeFirstOrThrow();
    expect(entry.kind).toBe('gift');
    expect(entry.refs).toMatchObject({ giftSendId: res.json.data.giftSend.id, streamId, senderId: sender.id, creatorId: creator.id });
    const send = await t.ctx.db.selectFrom('gift_sends').select(['entry_id', 'coins']).where('id', '=', res.json.data.giftSend.id).executeTakeFirstOrThrow();
    expect(send).toEqual({ entry_id: entry.id, coins: 30 });
    await expectWholeLedger();
  });

  it('defaults to one, and takes gifts while the encoder reconnects', async () => {
    const sender = await funded(10);
    const res = await gift(sender, await liveStream('reconnecting'), { giftId: rose.id });
    expect(res.status, res.text).toBe(201);
    expect(res.json.data.giftSend.quantity).toBe(1);
    expect(res.json.data.wallet.balance).toBe(0);
  });

  it('answers a retry with the first answer and spends nothing; the key with another gift is refused', async () => {
    const sender = await funded(50);
    const streamId = await liveStream();
    const key = randomUUID();
    const first = await gift(sender, streamId, { giftId: rose.id, quantity: 2 }, key);
    expect(first.status).toBe(201);
    const [entries, sends] = [await count('ledger_entries'), await count('gift_sends')];

    const again = await gift(sender, streamId, { giftId: rose.id, quantity: 2 }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    // Also once the stream is over: the retry is of a send made while it was live.
    await t.ctx.db.updateTable('streams').set({ status: 'ended' }).where('id', '=', streamId).execute();
    expect((await gift(sender, streamId, { giftId: rose.id, quantity: 2 }, key)).json).toEqual(first.json);

    for (const other of [{ giftId: rose.id, quantity: 3 }, { giftId: (await giftBySlug(t.ctx.db, 'heart')).id, quantity: 2 }]) {
      const refused = await gift(sender, streamId, other, key);
      expect(refused.status).toBe(409);
      expect(refused.json.error.code).toBe('idempotency_key_reused');
    }
    expect([await count('ledger_entries'), await count('gift_sends')]).toEqual([entries, sends]);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(30n);
    // Keys are the sender's own: another sender may use the same one.
    const other = await funded(10);
    expect((await gift(other, await liveStream(), { giftId: rose.id }, key)).status).toBe(201);
  });

  it('posts once when the same key arrives twice at the same time', async () => {
    const sender = await funded(10);
    const streamId = await liveStream();
    const key = randomUUID();
    const answers = await Promise.all([1, 2, 3].map(() => gift(sender, streamId, { giftId: rose.id }, key)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.json.data.giftSend.id)).size).toBe(1);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(0n);
  });

  it('refuses with nothing posted when the wallet holds too little', async () => {
    const sender = await funded(25);
    const streamId = await liveStream();
    const [entries, sends] = [await count('ledger_entries'), await count('gift_sends')];
    const res = await gift(sender, streamId, { giftId: rose.id, quantity: 3 });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('insufficient_funds');
    expect([await count('ledger_entries'), await count('gift_sends')]).toEqual([entries, sends]);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(25n);
    const board = await call(t.app, 'GET', `/api/v1/streams/${streamId}/leaderboard`);
    expect(board.json.data.top).toEqual([]);
    // A wallet never funded is an empty one.
    const broke = await funded(0);
    expect((await gift(broke, streamId, { giftId: rose.id })).json.error.code).toBe('insufficient_funds');
  });

  it('validates the request: the key, the body, the gift', async () => {
    const sender = await funded(10);
    const streamId = await liveStream();
    const noKey = await gift(sender, streamId, { giftId: rose.id }, null);
    expect(noKey.status).toBe(400);
    expect(noKey.json.error.details).toEqual([expect.objectContaining({ field: 'idempotency-key' })]);
    for (const body of [{ giftId: rose.id, quantity: 0 }, { giftId: rose.id, quantity: 101 }, { giftId: rose.id, quantity: 1.5 }, { giftId: 'rose' }, { giftId: rose.id, extra: 1 }]) {
      const res = await gift(sender, streamId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
    }
    const unknown = await gift(sender, streamId, { giftId: randomUUID() });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details).toEqual([{ field: 'giftId', message: 'unknown or retired gift' }]);
    const retired = await call(t.app, 'POST', '/api/v1/gifts', { body: { slug: 'test-retired', name: 'Retired', coins: 1, active: false }, headers: admin.auth });
    expect((await gift(sender, streamId, { giftId: retired.json.data.id })).json.error.details[0].field).toBe('giftId');
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(10n);
  });

  it('is for signed-in accounts that may act, on someone else’s live stream', async () => {
    const sender = await funded(100);
    const live = await liveStream();
    expect((await gift(undefined, live, { giftId: rose.id })).status).toBe(401);

    const own = await gift(creator, live, { giftId: rose.id });
    expect(own.status).toBe(403);
    expect(own.json.error.code).toBe('own_stream');

    for (const status of ['idle', 'scheduled', 'ended', 'cancelled'] as const) {
      const res = await gift(sender, await liveStream(status), { giftId: rose.id });
      expect(res.status, status).toBe(409);
      expect(res.json.error.code).toBe('stream_not_live');
    }
    expect((await gift(sender, randomUUID(), { giftId: rose.id })).status).toBe(404);

    const suspended = await funded(100);
    await setStatus(t.ctx.db, suspended.id, 'suspended');
    const refused = await gift(suspended, live, { giftId: rose.id });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('account_suspended');
    expect([await walletBalance(t.ctx.db, sender.id), await walletBalance(t.ctx.db, suspended.id)]).toEqual([100n, 100n]);
  });

  it('limits how many gifts one user sends per minute', async () => {
    const limited = { ...t.ctx.apiDeps(), config: { ...t.ctx.config, money: { ...t.ctx.config.money, giftsPerMinute: 3 } } };
    const app = createApp(limited);
    const sender = await funded(100);
    const streamId = await liveStream();
    const send = () =>
      call(app, 'POST', `/api/v1/streams/${streamId}/gifts`, { body: { giftId: rose.id }, headers: { ...sender.auth, 'idempotency-key': randomUUID() } });
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(201);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('rate_limited');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(70n);
  });
});

describe('channel restrictions', () => {
  const restrict = (viewer: TestUser, body: Record<string, unknown>) =>
    call(t.app, 'PUT', `/api/v1/users/${creator.id}/channel/restrictions/${viewer.id}`, { headers: creator.auth, body });
  const tip = (user: TestUser, target: Record<string, string>) =>
    call(t.app, 'POST', '/api/v1/tips', { headers: { ...user.auth, 'idempotency-key': randomUUID() }, body: { currency: 'USD', amount: 500, ...target } });

  it('keep a user timed out or banned from the channel’s chat from sending gifts or tips into its streams; a tip to a video still goes', async () => {
    const sender = await funded(100);
    const streamId = await liveStream();
    const key = randomUUID();
    expect((await gift(sender, streamId, { giftId: rose.id }, key)).status).toBe(201);

    expect((await restrict(sender, { type: 'ban', reason: 'spam' })).status).toBe(200);
    const banned = await gift(sender, streamId, { giftId: rose.id });
    expect(banned.status).toBe(403);
    expect(banned.json.error).toMatchObject({ code: 'forbidden', details: { reason: 'chat_banned' } });
    // A retry of the send accepted before the ban still gets its answer, and spends nothing more.
    const replay = await gift(sender, streamId, { giftId: rose.id }, key);
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(90n);
    const streamTip = await tip(sender, { streamId });
    expect(streamTip.status).toBe(403);
    expect(streamTip.json.error).toMatchObject({ code: 'forbidden', details: { reason: 'chat_banned' } });
    expect(await t.ctx.db.selectFrom('payments').select('id').where('payer_id', '=', sender.id).execute()).toEqual([]);
    // Outside a room a tip reaches only the creator: the chat restriction does not stand in its way.
    const video = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: creator.id, title: 'VOD', source: 'upload', source_key: 'sources/gift-test', status: 'ready' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await tip(sender, { videoId: video.id })).status).toBe(201);

    const timeout = await restrict(sender, { type: 'timeout', durationSeconds: 600 });
    const timedOut = await gift(sender, streamId, { giftId: rose.id });
    expect(timedOut.json.error).toMatchObject({ code: 'forbidden', details: { reason: 'chat_timeout', until: timeout.json.data.until } });
    expect((await tip(sender, { streamId })).json.error.details.reason).toBe('chat_timeout');
    // Another creator's stream is another channel.
    const elsewhere = await liveStream('live', (await newUser(t.app)).id);
    expect((await gift(sender, elsewhere, { giftId: rose.id })).status).toBe(201);

    expect((await call(t.app, 'DELETE', `/api/v1/users/${creator.id}/channel/restrictions/${sender.id}`, { headers: creator.auth })).json.data.lifted).toBe('timeout');
    expect((await gift(sender, streamId, { giftId: rose.id })).status).toBe(201);
    expect((await tip(sender, { streamId })).status).toBe(201);
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(70n);
    await expectWholeLedger();
  });
});

describe('concurrent spending', () => {
  it('50 gifts at once from a wallet holding 20 gifts’ worth: exactly 20 sent, 30 insufficient_funds, wallet 0', async () => {
    const sender = await funded(20 * rose.coins);
    const streamId = await liveStream();
    const pendingBefore = await pendingOf(creator.id);
    const answers = await Promise.all(Array.from({ length: 50 }, () => gift(sender, streamId, { giftId: rose.id })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 409)).toHaveLength(30);
    expect(answers.filter((a) => a.status === 409).every((a) => a.json.error.code === 'insufficient_funds')).toBe(true);
    // Each success saw the wallet after its own send: 20 distinct balances from 180 down to 0.
    expect(answers.filter((a) => a.status === 201).map((a) => a.json.data.wallet.balance).sort((a, b) => b - a)).toEqual(
      Array.from({ length: 20 }, (_, i) => (19 - i) * rose.coins),
    );
    expect(await walletBalance(t.ctx.db, sender.id)).toBe(0n);
    expect(await pendingOf(creator.id)).toBe(pendingBefore + BigInt(20 * rose.coins) * moneyRules(t.ctx.config).coinCreatorValue);
    const sends = await t.ctx.db.selectFrom('gift_sends').select((eb) => eb.fn.countAll<string>().as('n')).where('stream_id', '=', streamId).executeTakeFirstOrThrow();
    expect(Number(sends.n)).toBe(20);
    const board = await call(t.app, 'GET', `/api/v1/streams/${streamId}/leaderboard`);
    expect(board.json.data.top).toEqual([{ rank: 1, userId: sender.id, username: sender.username, coins: 20 * rose.coins }]);
    await expectWholeLedger();
  });
});

describe('the room sees gifts', () => {
  let gateways: Gateway[] = [];
  const sockets: WebSocket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    for (const g of gateways) await g.close();
  });

  it('sends a gift frame and, when the top changes, a leaderboard frame to sockets on every gateway', async () => {
    const started = await startGateways(t.ctx, 2);
    gateways = started.gateways;
    const streamId = await liveStream();
    const watchers: TestSocket[] = [];
    for (const url of started.urls) {
      const socket = await connectSocket(url, '', sockets);
      socket.send({ type: 'join', streamId });
      watchers.push(socket);
    }
    await until(() => watchers.every((w) => w.frames.some((f) => f.type === 'joined')), 'both sockets joined');

    // A full board of ten gifters (made through the service: bulk users never sign in).
    const rules = moneyRules(t.ctx.config);
    const star = await giftBySlug(t.ctx.db, 'star');
    const bulk = await insertBulkUsers(t.ctx.db, LEADERBOARD_SIZE);
    for (const [i, userId] of bulk.entries()) {
      await fundWallet(t.ctx, userId, BigInt(star.coins * 2));
      await sendGift(t.ctx.db, rules, { senderId: userId, streamId, giftId: star.id, quantity: i < 5 ? 2 : 1, idempotencyKey: 'fill' });
    }

    const small = await funded(rose.coins);
    const big = await funded(10 * star.coins);
    // Ten coins cannot reach a board whose last place holds 50: a gift frame, no leaderboard frame.
    expect((await gift(small, streamId, { giftId: rose.id })).status).toBe(201);
    const sent = await gift(big, streamId, { giftId: star.id, quantity: 3 });
    expect(sent.status).toBe(201);

    const giftFrames = (w: TestSocket) => w.frames.filter((f) => f.type === 'gift');
    const boards = (w: TestSocket) => w.frames.filter((f) => f.type === 'leaderboard');
    await until(() => watchers.every((w) => giftFrames(w).length === 2 && boards(w).length === 1), 'two gift frames and one leaderboard on both gateways');
    for (const w of watchers) {
      expect(giftFrames(w)[0]).toMatchObject({ sender: { id: small.id, username: small.username }, coins: rose.coins });
      expect(giftFrames(w)[1]).toEqual({
        type: 'gift',
        streamId,
        id: sent.json.data.giftSend.id,
        sender: { id: big.id, username: big.username },
        gift: { id: star.id, slug: 'star', name: 'Star', imageUrl: null, coins: star.coins },
        quantity: 3,
        coins: 3 * star.coins,
        sentAt: sent.json.data.giftSend.createdAt,
      });
      const [board] = boards(w);
      expect(board.top).toHaveLength(LEADERBOARD_SIZE);
      expect(board.top[0]).toEqual({ rank: 1, userId: big.id, username: big.username, coins: 3 * star.coins });
      expect(board.top.map((e: { userId: string }) => e.userId)).not.toContain(small.id);
      // The frame carries what the route shows.
      const route = await call(t.app, 'GET', `/api/v1/streams/${streamId}/leaderboard`);
      expect(route.json.data).toEqual({ streamId, top: board.top, version: board.version });
    }
    // The board's version grows: ties broken by who reached the total first, and a rise changes it.
    const before = boards(watchers[0]!)[0].version;
    const climber = bulk[LEADERBOARD_SIZE - 1]!;
    await fundWallet(t.ctx, climber, BigInt(star.coins));
    const climbed = await sendGift(t.ctx.db, rules, { senderId: climber, streamId, giftId: star.id, quantity: 1, idempotencyKey: 'climb' });
    expect(climbed.announce?.mayReachTop).toBe(true);
    // One coin behind a full board of fifties: the send is not announced with a leaderboard read.
    const [latecomer] = await insertBulkUsers(t.ctx.db, 1);
    await fundWallet(t.ctx, latecomer!, 1n);
    const heart = await giftBySlug(t.ctx.db, 'heart');
    const late = await sendGift(t.ctx.db, rules, { senderId: latecomer!, streamId, giftId: heart.id, quantity: 1, idempotencyKey: 'late' });
    expect(late.announce?.mayReachTop).toBe(false);
    const route = await call(t.app, 'GET', `/api/v1/streams/${streamId}/leaderboard`);
    expect(route.json.data.version).toBe(before + star.coins);
    const ranks = route.json.data.top.map((e: { userId: string; coins: number }) => [e.userId, e.coins]);
    // Six gifters now hold 100: the five who got there first, then the climber.
    expect(ranks.slice(1, 7)).toEqual([...bulk.slice(0, 5).map((id) => [id, 100]), [climber, 100]]);
  });
});

describe('wallet and earnings', () => {
  it('shows the wallet: balance and history, newest first, page by page', async () => {
    const sender = await funded(100);
    await fundWallet(t.ctx, sender.id, 20n);
    const streamId = await liveStream();
    const first = await gift(sender, streamId, { giftId: rose.id, quantity: 2 });
    await gift(sender, streamId, { giftId: rose.id, quantity: 5 });

    expect((await call(t.app, 'GET', '/api/v1/wallet')).status).toBe(401);
    const page1 = await call(t.app, 'GET', '/api/v1/wallet?limit=3', { headers: sender.auth });
    expect(page1.status, page1.text).toBe(200);
    expect(page1.json.data).toMatchObject({ currency: 'COIN', balance: 50 });
    expect(page1.json.data.history.map((h: { kind: string; amount: number; balanceAfter: number }) => [h.kind, h.amount, h.balanceAfter])).toEqual([
      ['gift', -50, 50],
      ['gift', -20, 100],
      ['coin_purchase', 20, 120],
    ]);
    expect(page1.json.data.history[1].refs).toEqual({ streamId, giftId: rose.id, giftSendId: first.json.data.giftSend.id });
    const page2 = await call(t.app, 'GET', `/api/v1/wallet?limit=3&cursor=${page1.json.meta.nextCursor}`, { headers: sender.auth });
    expect(page2.json.data.history.map((h: { amount: number }) => h.amount)).toEqual([100]);
    expect(page2.json.data.history[0].refs).toEqual({ coinPurchaseId: expect.any(String) });
    expect(page2.json.meta.nextCursor).toBeNull();
    expect((await call(t.app, 'GET', '/api/v1/wallet?cursor=nonsense', { headers: sender.auth })).status).toBe(400);

    const empty = await call(t.app, 'GET', '/api/v1/wallet', { headers: (await funded(0)).auth });
    expect(empty.json).toEqual({ success: true, data: { currency: 'COIN', balance: 0, history: [] }, meta: { limit: 20, nextCursor: null } });
  });

  it('shows a creator pending, available and reserved earnings with their history by source', async () => {
    const streamer = await newUser(t.app);
    await setRole(t.ctx.db, streamer.id, 'creator');
    const currency = t.ctx.config.money.settlementCurrency;
    const empty = await call(t.app, 'GET', '/api/v1/creators/me/earnings', { headers: streamer.auth });
    expect(empty.json).toEqual({ success: true, data: { currency, pending: 0, available: 0, reserved: 0, history: [] }, meta: { limit: 20, nextCursor: null } });

    const streamId = await liveStream('live', streamer.id);
    const sender = await funded(100);
    const sends = [];
    for (const quantity of [1, 2, 3]) sends.push((await gift(sender, streamId, { giftId: rose.id, quantity })).json.data.giftSend);
    const value = Number(moneyRules(t.ctx.config).coinCreatorValue);

    const res = await call(t.app, 'GET', '/api/v1/creators/me/earnings?limit=2&kind=gift', { headers: streamer.auth });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toMatchObject({ currency, pending: 60 * value, available: 0, reserved: 0 });
    expect(res.json.data.history).toEqual([
      { id: expect.any(String), entryId: expect.any(String), kind: 'gift', account: 'pending', amount: 30 * value, balanceAfter: 60 * value, refs: { streamId, giftId: rose.id, giftSendId: sends[2].id }, createdAt: expect.any(String) },
      expect.objectContaining({ kind: 'gift', account: 'pending', amount: 20 * value, balanceAfter: 30 * value }),
    ]);
    // Who sent it is not in the creator's view of the entry (tips may be anonymous).
    expect(JSON.stringify(res.json.data.history)).not.toContain(sender.id);
    const next = await call(t.app, 'GET', `/api/v1/creators/me/earnings?limit=2&kind=gift&cursor=${res.json.meta.nextCursor}`, { headers: streamer.auth });
    expect(next.json.data.history.map((h: { amount: number }) => h.amount)).toEqual([10 * value]);
    expect(next.json.meta.nextCursor).toBeNull();
    expect((await call(t.app, 'GET', '/api/v1/creators/me/earnings?kind=tip', { headers: streamer.auth })).json.data.history).toEqual([]);

    const viewer = await newUser(t.app);
    expect((await call(t.app, 'GET', '/api/v1/creators/me/earnings', { headers: viewer.auth })).status).toBe(403);
    expect((await call(t.app, 'GET', '/api/v1/creators/me/earnings')).status).toBe(401);
  });

  it('leaves every currency balanced and every account equal to its postings', async () => {
    await expectWholeLedger();
    const { rows } = await sql<{ code: string }>`select code from ledger_accounts where debits_must_not_exceed_credits and debits_posted > credits_posted`.execute(t.ctx.db);
    expect(rows).toEqual([]);
    // Coins burned by gifts left the liability for creators' pending earnings.
    const liability = platformAccount('coin_liability', t.ctx.config.money.settlementCurrency);
    expect((await balancesOf(t.ctx.db, [liability])).get(accountCode(liability))! >= 0n).toBe(true);
  });
});
