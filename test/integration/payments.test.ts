import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createApp, type App } from '../../api/app.ts';
import type { Config } from '../../lib/config.ts';
import { accountCode, credit, debit, ensureAccounts, postEntry, userAccount } from '../../lib/ledger/index.ts';
import { matureCreatorEarnings } from '../../lib/money/maturation.ts';
import { giftLines } from '../../lib/money/rules.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestContext } from '../support/context.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, startGateways, until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { latestMessage } from '../support/mailpit.ts';
import {
  buyCoins,
  capturingLogger,
  deliver,
  DISPUTE_FEE,
  entriesOf,
  moneyOf,
  moneyRules,
  paymentHandlers,
  startTip,
  stripeObjects,
  type StartedPayment,
} from '../support/payments.ts';
import { sendStripeEvent } from '../support/stripe.ts';
import { recordingProxy } from '../support/stripe-proxy.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Money in, end to end: payments started through the API against stripe-mock, Stripe's
// signed events through the real webhook route, applied by real workers with the real
// handlers; the books checked after every flow.

const t = useTestContext();
let app: App;
let gateways: Gateway[] = [];
let urls: string[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  app = createApp(t.ctx.apiDeps());
  ({ gateways, urls } = await startGateways(t.ctx, 1));
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of gateways) await g.close();
});

const logged = capturingLogger();
const withPaymentWorkers = <T>(fn: () => Promise<T>) => withWorkers(t.ctx, fn, { media: false, stripeEventHandlers: paymentHandlers(logged.logger) });
const send = (type: string, object: Record<string, unknown>) => deliver(app, t.ctx, type, object);
const getPayment = async (user: TestUser, id: string) => (await call(app, 'GET', `/api/v1/payments/${id}`, { headers: user.auth })).json.data;

/** Each account's change since `before` (platform accounts are shared by every test of the file). */
const change = (after: Record<string, bigint>, before: Record<string, bigint>) => Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k]!]));

async function tipAndPay(payer: TestUser, creator: TestUser, amount = 1000) {
  const streamId = await insertStream(t.ctx, creator.id, 'live');
  const payment = await startTip(t.ctx.db, app, payer, { streamId, amount });
  await send('payment_intent.succeeded', stripeObjects.succeeded(payment));
  return { payment, streamId };
}

async function buyAndPay(payer: TestUser, slug = 'coins-500') {
  const payment = await buyCoins(t.ctx.db, app, payer, slug);
  await send('payment_intent.succeeded', stripeObjects.succeeded(payment));
  return payment;
}

describe('tips', { timeout: 120_000 }, () => {
  it('books a paid $10.00 tip: $8.41 pending for the creator, a donation frame in the live room, the creator notified (in the app and by mail)', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    // A verified address gets `tip_received` mail right away by default (README "Notification email").
    await t.ctx.db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', creator.id).execute();
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const room = await connectSocket(urls[0]!, '', sockets);
    room.send({ type: 'join', streamId });
    const creatorSocket = await connectSocket(urls[0]!, `?token=${creator.accessToken}`, sockets);
    creatorSocket.send({ type: 'ping' });
    await until(() => room.frames.some((f) => f.type === 'joined') && creatorSocket.frames.some((f) => f.type === 'pong'), 'sockets ready');

    const key = randomUUID();
    const body = { streamId, amount: 1000, currency: 'usd', message: '  great run  ' };
    const res = await call(app, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
    expect(res.status, res.text).toBe(201);
    const { payment, clientSecret } = res.json.data;
    expect(clientSecret).toMatch(/^pi_\w+_secret_\w+$/);
    expect(payment).toMatchObject({ kind: 'tip', status: 'requires_payment', amount: 1000, currency: 'USD', payerId: viewer.id, creatorId: creator.id, streamId, message: 'great run', anonymous: false });
    // A retry of the request: the same payment and client secret, nothing new.
    const again = await call(app, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.data).toEqual({ payment, clientSecret });
    expect(await t.ctx.db.selectFrom('payments').select('id').where('payer_id', '=', viewer.id).execute()).toHaveLength(1);
    const stored = await t.ctx.db.selectFrom('payments').select(['provider_payment_intent_id', 'provider_client_secret']).where('id', '=', payment.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ provider_payment_intent_id: expect.stringMatching(/^pi_/), provider_client_secret: clientSecret });

    const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
    const paid = { ...payment, paymentIntentId: stored.provider_payment_intent_id! };
    const mailed = await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      // The same news again under another event id: nothing more.
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      // The booking starts the notification's mail once it committed.
      return t.ctx.temporal.client.workflow.getHandle(workflowIds.notificationEmail(`tip_received:${payment.id}`)).result();
    });
    expect(mailed).toEqual({ sent: 1 });
    expect((await latestMessage(creator.email, 'You received a tip')).Subject).toBe('StreamHub: You received a tip');
    expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 841n, available: 0n, clearing: 941n, fees: 59n, revenue: 159n, losses: 0n });
    expect((await entriesOf(t.ctx.db, payment.id)).map((e) => [e.idempotency_key, e.kind])).toEqual([[`payment/${payment.id}/succeeded`, 'tip']]);
    expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'succeeded', succeededAt: expect.any(String), refundedAmount: 0 });
    await expectWholeBooks(t.ctx.db);

    await until(() => room.frames.some((f) => f.type === 'donation'), 'the donation frame');
    expect(room.frames.filter((f) => f.type === 'donation')).toEqual([
      {
        type: 'donation',
        streamId,
        id: payment.id,
        amount: 1000,
        currency: 'USD',
        message: 'great run',
        name: viewer.username,
        donor: { id: viewer.id, username: viewer.username },
        sentAt: expect.any(String),
      },
    ]);
    await until(() => creatorSocket.frames.some((f) => f.type === 'notification'), 'the creator’s notification push');
    const listed = await call(app, 'GET', '/api/v1/notifications', { headers: creator.auth });
    expect(listed.json.data).toEqual([
      expect.objectContaining({
        type: 'tip_received',
        actorId: viewer.id,
        entityType: 'stream',
        entityId: streamId,
        payload: expect.objectContaining({ paymentId: payment.id, amount: 1000, currency: 'USD', message: 'great run', name: viewer.username }),
      }),
    ]);
    expect(creatorSocket.frames.find((f) => f.type === 'notification').notification).toEqual(listed.json.data[0]);
  });

  it('keeps an anonymous tipper anonymous, tips a video, and sends no frame for a stream that is not live', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const offline = await insertStream(t.ctx, creator.id, 'ended');
    const room = await connectSocket(urls[0]!, '', sockets);
    room.send({ type: 'join', streamId: offline });
    await until(() => room.frames.some((f) => f.type === 'joined'), 'joined');
    const video = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: creator.id, title: 'VOD', source: 'upload', source_key: 'sources/x', status: 'ready' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const onVideo = await startTip(t.ctx.db, app, viewer, { videoId: video.id, amount: 250, anonymous: true });
    const onStream = await startTip(t.ctx.db, app, viewer, { streamId: offline, amount: 300 });
    await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(onVideo));
      await send('payment_intent.succeeded', stripeObjects.succeeded(onStream));
    });
    const notes = (await call(app, 'GET', '/api/v1/notifications', { headers: creator.auth })).json.data;
    const anonymous = notes.find((n: { payload: { paymentId: string } }) => n.payload.paymentId === onVideo.id);
    expect(anonymous).toMatchObject({ type: 'tip_received', actorId: null, entityType: 'video', entityId: video.id, payload: { name: 'anonymous', donor: null } });
    expect(notes).toHaveLength(2);
    // The frame would have come with the booking, before the notifications we just read.
    expect(room.frames.filter((f) => f.type === 'donation')).toEqual([]);
    await expectWholeBooks(t.ctx.db);
  });

  it('books a tip started before its payer was banned from the channel’s chat, but keeps it out of the room', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const room = await connectSocket(urls[0]!, '', sockets);
    room.send({ type: 'join', streamId });
    await until(() => room.frames.some((f) => f.type === 'joined'), 'joined');
    const before = await startTip(t.ctx.db, app, viewer, { streamId, amount: 300 });
    const ban = await call(app, 'PUT', `/api/v1/users/${creator.id}/channel/restrictions/${viewer.id}`, { headers: creator.auth, body: { type: 'ban', reason: 'spam' } });
    expect(ban.status, ban.text).toBe(200);
    // A friend's tip, booked after it, is the witness that the room was listening.
    const friend = await newUser(app);
    const witness = await startTip(t.ctx.db, app, friend, { streamId, amount: 200 });
    await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(before));
      await send('payment_intent.succeeded', stripeObjects.succeeded(witness));
    });
    expect(await getPayment(viewer, before.id)).toMatchObject({ status: 'succeeded' });
    await until(() => room.frames.some((f) => f.type === 'donation'), 'the witness’s donation frame');
    expect(room.frames.filter((f) => f.type === 'donation').map((f) => f.id)).toEqual([witness.id]);
    const notes = (await call(app, 'GET', '/api/v1/notifications', { headers: creator.auth })).json.data;
    expect(notes.map((n: { payload: { paymentId: string } }) => n.payload.paymentId).sort()).toEqual([before.id, witness.id].sort());
    await expectWholeBooks(t.ctx.db);
  });

  it('validates the request: one target, bounds, the settlement currency, a key, and never yourself', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const tip = (body: Record<string, unknown>, headers: Record<string, string> = { ...viewer.auth, 'idempotency-key': randomUUID() }) =>
      call(app, 'POST', '/api/v1/tips', { headers, body: { currency: 'USD', amount: 500, ...body } });
    const fieldsOf = (res: { json: { error: { details?: { field: string }[] } } }) => res.json.error.details?.map((d) => d.field);

    expect((await tip({ streamId }, viewer.auth)).status).toBe(400);
    expect((await tip({ streamId }, { 'idempotency-key': randomUUID() })).status).toBe(401);
    const both = await tip({ streamId, videoId: randomUUID() });
    expect([both.status, fieldsOf(both)]).toEqual([400, ['streamId']]);
    expect(fieldsOf(await tip({}))).toEqual(['streamId']);
    expect(fieldsOf(await tip({ streamId, amount: 99 }))).toEqual(['amount']);
    expect(fieldsOf(await tip({ streamId, amount: 50_001 }))).toEqual(['amount']);
    expect(fieldsOf(await tip({ streamId, amount: 100.5 }))).toEqual(['amount']);
    expect(fieldsOf(await tip({ streamId, currency: 'EUR' }))).toEqual(['currency']);
    expect(fieldsOf(await tip({ streamId, message: 'x'.repeat(201) }))).toEqual(['message']);
    expect((await tip({ streamId, amount: 100 })).status).toBe(201);
    expect((await tip({ streamId, amount: 50_000, message: 'x'.repeat(200) })).status).toBe(201);

    const self = await tip({ streamId }, { ...creator.auth, 'idempotency-key': randomUUID() });
    expect([self.status, self.json.error.code]).toEqual([403, 'forbidden']);
    const unknown = await tip({ streamId: randomUUID() });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'not_found']);
    const cancelled = await insertStream(t.ctx, creator.id, 'cancelled');
    expect((await tip({ streamId: cancelled })).status).toBe(404);
    const privateVideo = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: creator.id, title: 'Mine', source: 'upload', source_key: 'sources/y', status: 'ready', visibility: 'private' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await tip({ videoId: privateVideo.id })).status).toBe(404);

    const key = randomUUID();
    expect((await tip({ streamId, amount: 700 }, { ...viewer.auth, 'idempotency-key': key })).status).toBe(201);
    const reused = await tip({ streamId, amount: 800 }, { ...viewer.auth, 'idempotency-key': key });
    expect([reused.status, reused.json.error.code]).toEqual([409, 'idempotency_key_reused']);
  });

  it('shows a payment to its payer, finance and admins only', async () => {
    const [viewer, creator, other, finance, admin] = await Promise.all([1, 2, 3, 4, 5].map(() => newUser(app)));
    await setRole(t.ctx.db, finance!.id, 'finance');
    await setRole(t.ctx.db, admin!.id, 'admin');
    const payment = await startTip(t.ctx.db, app, viewer!, { streamId: await insertStream(t.ctx, creator!.id, 'live'), amount: 500 });
    for (const user of [viewer!, finance!, admin!]) expect((await call(app, 'GET', `/api/v1/payments/${payment.id}`, { headers: user.auth })).status).toBe(200);
    for (const user of [other!, creator!]) expect((await call(app, 'GET', `/api/v1/payments/${payment.id}`, { headers: user.auth })).status).toBe(404);
    expect((await call(app, 'GET', `/api/v1/payments/${payment.id}`)).status).toBe(401);
    expect((await call(app, 'GET', `/api/v1/payments/${randomUUID()}`, { headers: admin!.auth })).status).toBe(404);
  });

  it('refuses to start payments when they are off (no row written), and limits them per user', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const configWith = (payments: Partial<Config['payments']>): Config => ({ ...t.ctx.config, payments: { ...t.ctx.config.payments, ...payments } });
    const off = createApp({ ...t.ctx.apiDeps(), config: configWith({ stripe: undefined }) });
    const refused = await call(off, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': randomUUID() }, body: { streamId, amount: 500, currency: 'USD' } });
    expect([refused.status, refused.json.error.code]).toEqual([503, 'unavailable']);
    expect(await t.ctx.db.selectFrom('payments').select('id').where('payer_id', '=', viewer.id).execute()).toEqual([]);

    const limited = createApp({ ...t.ctx.apiDeps(), config: configWith({ paymentsPerHour: 2 }) });
    const eager = await newUser(app);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await call(limited, 'POST', '/api/v1/tips', { headers: { ...eager.auth, 'idempotency-key': randomUUID() }, body: { streamId, amount: 500, currency: 'USD' } })).status);
    }
    expect(statuses).toEqual([201, 201, 429]);
  });
});

describe('coin purchases', { timeout: 120_000 }, () => {
  it('lists the packs on sale and puts the coins in the wallet once paid', async () => {
    const packs = await call(app, 'GET', '/api/v1/coin-packs');
    expect(packs.status).toBe(200);
    expect(packs.json.data.map((p: { slug: string; coins: number; amount: number; currency: string }) => [p.slug, p.coins, p.amount, p.currency])).toEqual([
      ['coins-100', 100, 140, 'USD'],
      ['coins-500', 500, 700, 'USD'],
      ['coins-1000', 1000, 1400, 'USD'],
      ['coins-5000', 5000, 7000, 'USD'],
    ]);
    const buyer = await newUser(app);
    const payment = await buyCoins(t.ctx.db, app, buyer, 'coins-500');
    expect(payment).toMatchObject({ kind: 'coin_purchase', status: 'requires_payment', amount: 700, coins: 500, clientSecret: expect.stringMatching(/_secret_/) });
    const before = await moneyOf(t.ctx.db, { buyerId: buyer.id });
    await withPaymentWorkers(() => send('payment_intent.succeeded', stripeObjects.succeeded(payment)));
    // $7.00 less the provider's 2.9% + 30¢ (50¢) in clearing; $5.00 owed to creators for 500 coins.
    expect(change(await moneyOf(t.ctx.db, { buyerId: buyer.id }), before)).toMatchObject({ wallet: 500n, clearing: 650n, fees: 50n, liability: 500n, revenue: 200n });
    expect(await getPayment(buyer, payment.id)).toMatchObject({ status: 'succeeded', coins: 500 });
    await expectWholeBooks(t.ctx.db);
  });

  it('refuses unknown and retired packs', async () => {
    const buyer = await newUser(app);
    const buy = (coinPackId: string) => call(app, 'POST', '/api/v1/coin-purchases', { headers: { ...buyer.auth, 'idempotency-key': randomUUID() }, body: { coinPackId } });
    expect((await buy(randomUUID())).status).toBe(404);
    const retired = await t.ctx.db
      .insertInto('coin_packs')
      .values({ slug: `retired-${randomUUID().slice(0, 8)}`, coins: '10', price_minor: '20', currency: 'USD', active: false })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await buy(retired.id)).status).toBe(404);
    expect((await call(app, 'GET', '/api/v1/coin-packs')).json.data.map((p: { id: string }) => p.id)).not.toContain(retired.id);
  });
});

describe('refunds', { timeout: 180_000 }, () => {
  it('reverses a fully refunded tip: the creator’s share from pending, the platform’s from revenue, the processing fee stays an expense', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const { payment } = await tipAndPay(viewer, creator);
      await send('charge.refunded', stripeObjects.refunded(payment, 1000));
      await send('charge.refunded', stripeObjects.refunded(payment, 1000));
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 0n, available: 0n, revenue: 0n, fees: 59n, clearing: -59n, losses: 0n });
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['tip', 'tip.refund']);
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('books partial refunds as the cumulative amount grows, from pending then available, and ignores an older refund event', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const { payment } = await tipAndPay(viewer, creator);
      await send('charge.refunded', stripeObjects.refunded(payment, 300));
      // 841 × 300 / 1000 = 252 of the creator's share comes back.
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 589n, revenue: 111n });
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: 300 });
      expect(await matureCreatorEarnings(t.ctx.db, { creatorId: creator.id, currency: 'USD', cutoff: new Date() })).toBe(589n);

      await send('charge.refunded', stripeObjects.refunded(payment, 1000));
      await send('charge.refunded', stripeObjects.refunded(payment, 300));
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 0n, available: 0n, revenue: 0n, clearing: -59n });
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.idempotency_key)).toEqual([
        `payment/${payment.id}/succeeded`,
        `payment/${payment.id}/refund/300`,
        `payment/${payment.id}/refund/1000`,
      ]);
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('takes a refund of earnings already paid out from available, which goes negative until future earnings repay it', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const { payment } = await tipAndPay(viewer, creator);
      await matureCreatorEarnings(t.ctx.db, { creatorId: creator.id, currency: 'USD', cutoff: new Date() });
      // What a payout run does with available earnings: sets them aside.
      await postEntry(t.ctx.db, {
        idempotencyKey: `test-payout/${creator.id}`,
        kind: 'test.payout',
        lines: [debit(userAccount('earnings_available', creator.id, 'USD'), 841n), credit(userAccount('earnings_reserved', creator.id, 'USD'), 841n)],
      });
      await send('charge.refunded', stripeObjects.refunded(payment, 1000));
      expect(await moneyOf(t.ctx.db, { creatorId: creator.id })).toMatchObject({ pending: 0n, available: -841n });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('claws back a refunded coin pack’s unspent coins and books the value of the spent ones as a loss', async () => {
    const [buyer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { buyerId: buyer.id, creatorId: creator.id });
      const payment = await buyAndPay(buyer);
      await postEntry(t.ctx.db, { idempotencyKey: `test-gift/${buyer.id}`, kind: 'gift', lines: giftLines(buyer.id, creator.id, 200n, moneyRules) });
      await send('charge.refunded', stripeObjects.refunded(payment, 700));
      expect(change(await moneyOf(t.ctx.db, { buyerId: buyer.id, creatorId: creator.id }), before)).toMatchObject({
        wallet: 0n,
        liability: 0n,
        losses: 200n,
        revenue: 0n,
        fees: 50n,
        clearing: -50n,
        // The creator keeps what the gift earned.
        pending: 200n,
      });
      expect(await getPayment(buyer, payment.id)).toMatchObject({ status: 'refunded' });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('takes half the coins back for half the price', async () => {
    const buyer = await newUser(app);
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { buyerId: buyer.id });
      const payment = await buyAndPay(buyer);
      await send('charge.refunded', stripeObjects.refunded(payment, 350));
      expect(change(await moneyOf(t.ctx.db, { buyerId: buyer.id }), before)).toMatchObject({ wallet: 250n, liability: 250n, revenue: 100n, clearing: 300n, losses: 0n });
    });
    await expectWholeBooks(t.ctx.db);
  });
});

describe('disputes', { timeout: 180_000 }, () => {
  for (const kind of ['tip', 'coin_purchase'] as const) {
    for (const outcome of ['won', 'lost'] as const) {
      it(`books a ${kind} dispute like a full refund plus the fee, and when it is ${outcome}: ${outcome === 'won' ? 'reverses that entry' : 'nothing more'}`, async () => {
        const [payer, creator] = [await newUser(app), await newUser(app)];
        await withPaymentWorkers(async () => {
          const before = await moneyOf(t.ctx.db, { creatorId: creator.id, buyerId: payer.id });
          const payment: StartedPayment = kind === 'tip' ? (await tipAndPay(payer, creator)).payment : await buyAndPay(payer);
          const paid = change(await moneyOf(t.ctx.db, { creatorId: creator.id, buyerId: payer.id }), before);
          const disputeId = `dp_${randomUUID().replaceAll('-', '')}`;
          await send('charge.dispute.created', stripeObjects.dispute(payment, { id: disputeId, amount: payment.amount, status: 'needs_response' }));
          await send('charge.dispute.created', stripeObjects.dispute(payment, { id: disputeId, amount: payment.amount, status: 'needs_response' }));
          const disputed = change(await moneyOf(t.ctx.db, { creatorId: creator.id, buyerId: payer.id }), before);
          expect(disputed).toMatchObject({ losses: DISPUTE_FEE, clearing: paid.clearing! - BigInt(payment.amount) - DISPUTE_FEE, pending: 0n, wallet: 0n, liability: 0n, revenue: 0n });
          expect(await getPayment(payer, payment.id)).toMatchObject({ status: 'disputed' });

          const closed = outcome === 'won' ? 'won' : 'lost';
          await send('charge.dispute.closed', stripeObjects.dispute(payment, { id: disputeId, amount: payment.amount, status: closed }));
          await send('charge.dispute.closed', stripeObjects.dispute(payment, { id: disputeId, amount: payment.amount, status: closed }));
          const entries = await entriesOf(t.ctx.db, payment.id);
          const after = change(await moneyOf(t.ctx.db, { creatorId: creator.id, buyerId: payer.id }), before);
          if (outcome === 'won') {
            expect(after).toEqual(paid);
            expect(entries.map((e) => e.kind)).toEqual([kind, `${kind}.dispute`, `${kind}.dispute_won`]);
            expect(entries[2]!.reverses).toBe(entries[1]!.id);
            expect(await getPayment(payer, payment.id)).toMatchObject({ status: 'succeeded' });
          } else {
            expect(after).toEqual(disputed);
            expect(entries.map((e) => e.kind)).toEqual([kind, `${kind}.dispute`]);
            expect(await getPayment(payer, payment.id)).toMatchObject({ status: 'disputed' });
          }
          const row = await t.ctx.db.selectFrom('payment_disputes').select(['status', 'fee']).where('payment_id', '=', payment.id).executeTakeFirstOrThrow();
          expect(row).toEqual({ status: closed, fee: Number(DISPUTE_FEE) });
        });
        await expectWholeBooks(t.ctx.db);
      });
    }
  }

  it('books a dispute of money already refunded as a loss, and an inquiry as nothing', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const { payment } = await tipAndPay(viewer, creator);
      await send('charge.refunded', stripeObjects.refunded(payment, 1000));
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      await send('charge.dispute.created', stripeObjects.dispute(payment, { id: `dp_inq_${payment.id.slice(0, 8)}`, amount: 1000, status: 'warning_needs_response' }));
      expect(await moneyOf(t.ctx.db, { creatorId: creator.id })).toEqual(before);
      await send('charge.dispute.created', stripeObjects.dispute(payment, { id: `dp_cb_${payment.id.slice(0, 8)}`, amount: 1000, status: 'needs_response' }));
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ losses: 1000n + DISPUTE_FEE, clearing: -1000n - DISPUTE_FEE, pending: 0n, revenue: 0n });
    });
    await expectWholeBooks(t.ctx.db);
  });
});

describe('disputes that start as inquiries, and withdrawals', { timeout: 180_000 }, () => {
  it('books an inquiry that escalates to a chargeback when its funds are withdrawn, once, and its loss at the close', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const { payment } = await tipAndPay(viewer, creator);
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const dispute = { id: `dp_${randomUUID().replaceAll('-', '')}`, amount: 1000 };
      await send('charge.dispute.created', stripeObjects.dispute(payment, { ...dispute, status: 'warning_needs_response' }));
      expect(await moneyOf(t.ctx.db, { creatorId: creator.id })).toEqual(before);
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'succeeded' });
      // Escalated: Stripe withdraws the money and the fee, and says so.
      await send('charge.dispute.funds_withdrawn', stripeObjects.dispute(payment, { ...dispute, status: 'needs_response' }));
      await send('charge.dispute.funds_withdrawn', stripeObjects.dispute(payment, { ...dispute, status: 'needs_response' }));
      const disputed = change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before);
      expect(disputed).toMatchObject({ pending: -841n, revenue: -159n, clearing: -1000n - DISPUTE_FEE, losses: DISPUTE_FEE });
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'disputed' });
      await send('charge.dispute.closed', stripeObjects.dispute(payment, { ...dispute, status: 'lost' }));
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toEqual(disputed);
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['tip', 'tip.dispute']);
      const row = await t.ctx.db.selectFrom('payment_disputes').select(['status', 'fee', 'amount']).where('payment_id', '=', payment.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'lost', fee: Number(DISPUTE_FEE), amount: 1000 });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('books an escalated inquiry whose close is the only news of it, and keeps an inquiry that closed as one at nothing', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const escalated = (await tipAndPay(viewer, creator)).payment;
      const answered = (await tipAndPay(viewer, creator)).payment;
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const [d1, d2] = [`dp_${randomUUID().replaceAll('-', '')}`, `dp_${randomUUID().replaceAll('-', '')}`];
      await send('charge.dispute.created', stripeObjects.dispute(escalated, { id: d1, amount: 1000, status: 'warning_needs_response' }));
      await send('charge.dispute.created', stripeObjects.dispute(answered, { id: d2, amount: 1000, status: 'warning_needs_response' }));
      await send('charge.dispute.closed', stripeObjects.dispute(escalated, { id: d1, amount: 1000, status: 'lost' }));
      await send('charge.dispute.closed', stripeObjects.dispute(answered, { id: d2, amount: 1000, status: 'warning_closed' }));
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: -841n, clearing: -1000n - DISPUTE_FEE, losses: DISPUTE_FEE });
      expect((await entriesOf(t.ctx.db, escalated.id)).map((e) => e.kind)).toEqual(['tip', 'tip.dispute']);
      expect((await entriesOf(t.ctx.db, answered.id)).map((e) => e.kind)).toEqual(['tip']);
      expect(await getPayment(viewer, escalated.id)).toMatchObject({ status: 'disputed' });
      expect(await getPayment(viewer, answered.id)).toMatchObject({ status: 'succeeded' });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('books a chargeback once whichever of its creation and its withdrawal comes first', async () => {
    const buyer = await newUser(app);
    await withPaymentWorkers(async () => {
      for (const order of [['charge.dispute.created', 'charge.dispute.funds_withdrawn'], ['charge.dispute.funds_withdrawn', 'charge.dispute.created']]) {
        const payment = await buyAndPay(buyer);
        const dispute = { id: `dp_${randomUUID().replaceAll('-', '')}`, amount: 700, status: 'needs_response' };
        for (const type of order) await send(type, stripeObjects.dispute(payment, dispute));
        expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['coin_purchase', 'coin_purchase.dispute']);
      }
    });
    await expectWholeBooks(t.ctx.db);
  });
});

describe('events about a payment not known yet', { timeout: 180_000 }, () => {
  /** Sends an event that must wait: its workflow ends with the event parked, not applied. */
  async function sendParked(type: string, object: Record<string, unknown>): Promise<string> {
    const { event, res } = await sendStripeEvent(app, t.ctx.config, { type, object });
    expect(res.status, res.text).toBe(200);
    expect(await t.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', event.id)).result()).toEqual({ outcome: 'parked', type });
    return event.id;
  }
  const eventRow = (id: string) => t.ctx.db.selectFrom('payment_events').select(['applied_at', 'parked_at']).where('event_id', '=', id).executeTakeFirstOrThrow();

  it('parks a dispute that arrives before its payment’s success, and books it when the success makes the charge known', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const payment = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 1000 });
      // It names only the charge, which we learn from the success: no payment can be found yet.
      const dispute = { ...stripeObjects.dispute(payment, { id: `dp_${randomUUID().replaceAll('-', '')}`, amount: 1000, status: 'needs_response' }), payment_intent: null };
      const parked = await sendParked('charge.dispute.created', dispute);
      expect(await entriesOf(t.ctx.db, payment.id)).toEqual([]);
      expect(await eventRow(parked)).toEqual({ applied_at: null, parked_at: expect.any(Date) });
      // Delivered again while it waits: still one parked event, nothing booked.
      await sendParked('charge.dispute.created', dispute);
      expect(await entriesOf(t.ctx.db, payment.id)).toEqual([]);

      await send('payment_intent.succeeded', stripeObjects.succeeded(payment));
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['tip', 'tip.dispute']);
      expect(await eventRow(parked)).toEqual({ applied_at: expect.any(Date), parked_at: expect.any(Date) });
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 0n, revenue: 0n, losses: DISPUTE_FEE, clearing: -DISPUTE_FEE - 59n });
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'disputed' });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('parks a refund of a charge no payment names yet, with a warning, and changes nothing', async () => {
    const entries = () => t.ctx.db.selectFrom('ledger_entries').select('id').orderBy('id').execute();
    const before = await entries();
    const parked = await withPaymentWorkers(() =>
      sendParked('charge.refunded', { id: `ch_not_ours_${randomUUID().slice(0, 8)}`, amount: 500, amount_refunded: 500, currency: 'usd', payment_intent: `pi_not_ours_${randomUUID().slice(0, 8)}`, metadata: {} }),
    );
    expect(logged.lines.filter((l) => l.eventId === parked).map((l) => [l.level, l.msg])).toEqual([['warn', 'payment event about a payment not known yet; parked until an event makes it known']]);
    expect(await entries()).toEqual(before);
  });
});

describe('events out of order, twice, or wrong', { timeout: 180_000 }, () => {
  it('books the success from a refund that arrives first (the same key), then nothing for the late success', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const before = await moneyOf(t.ctx.db, { creatorId: creator.id });
      const payment = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 1000 });
      await send('charge.refunded', stripeObjects.refunded(payment, 400));
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'partially_refunded', refundedAmount: 400 });
      await send('payment_intent.succeeded', stripeObjects.succeeded(payment));
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.idempotency_key)).toEqual([`payment/${payment.id}/succeeded`, `payment/${payment.id}/refund/400`]);
      // 841 − 841 × 400 / 1000 (336) stays with the creator.
      expect(change(await moneyOf(t.ctx.db, { creatorId: creator.id }), before)).toMatchObject({ pending: 505n });
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'partially_refunded' });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('books a dispute closed before its opening arrives: opened and reinstated, then the late opening books nothing', async () => {
    const buyer = await newUser(app);
    await withPaymentWorkers(async () => {
      const payment = await buyAndPay(buyer);
      const paid = await moneyOf(t.ctx.db, { buyerId: buyer.id });
      const dispute = { id: `dp_${randomUUID().replaceAll('-', '')}`, amount: 700 };
      await send('charge.dispute.closed', stripeObjects.dispute(payment, { ...dispute, status: 'won' }));
      await send('charge.dispute.created', stripeObjects.dispute(payment, { ...dispute, status: 'needs_response' }));
      expect(await moneyOf(t.ctx.db, { buyerId: buyer.id })).toEqual(paid);
      expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['coin_purchase', 'coin_purchase.dispute', 'coin_purchase.dispute_won']);
      expect(await getPayment(buyer, payment.id)).toMatchObject({ status: 'succeeded' });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('marks a failed payment failed, and books a later success (the payer tried another card)', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const payment = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 500 });
      await send('payment_intent.payment_failed', stripeObjects.failed(payment, 'Your card has insufficient funds.'));
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'failed', failureReason: 'Your card has insufficient funds.' });
      expect(await entriesOf(t.ctx.db, payment.id)).toEqual([]);
      await send('payment_intent.succeeded', stripeObjects.succeeded(payment));
      // A failure reported late does not undo a success.
      await send('payment_intent.payment_failed', stripeObjects.failed(payment));
      expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'succeeded', failureReason: null });
      expect(await entriesOf(t.ctx.db, payment.id)).toHaveLength(1);
    });
  });

  it('refuses to book money that does not match the payment, and books nothing for its later refund', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    await withPaymentWorkers(async () => {
      const payment = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 1000 });
      const otherCurrency = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 1000 });
      await send('payment_intent.succeeded', stripeObjects.succeeded(payment, { amount: 999, amount_received: 999 }));
      await send('payment_intent.succeeded', stripeObjects.succeeded(otherCurrency, { currency: 'eur' }));
      await send('charge.refunded', stripeObjects.refunded(payment, 999));
      for (const p of [payment, otherCurrency]) {
        expect(await getPayment(viewer, p.id)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^amount_mismatch: asked 1000 USD, received/) });
        expect(await entriesOf(t.ctx.db, p.id)).toEqual([]);
      }
      expect(logged.lines.filter((l) => l.paymentId === payment.id || l.paymentId === otherCurrency.id)).toEqual([
        { level: 'error', msg: 'payment received but not booked: an operator must refund it', paymentId: payment.id, reason: 'amount_mismatch: asked 1000 USD, received 999 USD' },
        { level: 'error', msg: 'payment received but not booked: an operator must refund it', paymentId: otherCurrency.id, reason: 'amount_mismatch: asked 1000 USD, received 1000 EUR' },
      ]);
      expect(await moneyOf(t.ctx.db, { creatorId: creator.id })).toMatchObject({ pending: 0n });
    });
    await expectWholeBooks(t.ctx.db);
  });

  it('ignores a success about a payment that is not ours, with a warning', async () => {
    const entries = () => t.ctx.db.selectFrom('ledger_entries').select('id').orderBy('id').execute();
    const before = await entries();
    const stranger = await withPaymentWorkers(() => send('payment_intent.succeeded', { amount: 500, currency: 'usd', metadata: { paymentId: randomUUID() } }));
    expect(logged.lines.filter((l) => l.eventId === stranger).map((l) => [l.level, l.msg])).toEqual([['warn', 'payment event about no payment of ours; ignored']]);
    expect(await entries()).toEqual(before);
  });
});

describe('durability', { timeout: 240_000 }, () => {
  it('books a success exactly once when the worker applying it is SIGKILLed in the middle of posting', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const payment = await startTip(t.ctx.db, app, viewer, { streamId: await insertStream(t.ctx, creator.id, 'live'), amount: 1000 });
    // Hold the creator's pending account: the worker's posting waits on it, inside the event's transaction.
    const pending = userAccount('earnings_pending', creator.id, 'USD');
    await ensureAccounts(t.ctx.db, [pending]);
    let release!: () => void;
    let holding!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = t.ctx.db.transaction().execute(async (tx) => {
      await sql`select id from ledger_accounts where code = ${accountCode(pending)} for update`.execute(tx);
      holding();
      await released;
    });
    await held;

    const doomed = await spawnWorkerProcess(t.ctx, 'platform');
    const { event, res } = await sendStripeEvent(app, t.ctx.config, { type: 'payment_intent.succeeded', object: stripeObjects.succeeded(payment) });
    expect(res.status).toBe(200);
    const waiting = async () =>
      (
        await sql<{ pid: number }>`select pid from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query ilike '%insert into ledger_postings%'`.execute(t.ctx.db)
      ).rows;
    await until(async () => (await waiting()).length === 1, 'the worker to be posting the tip', 120_000);
    const [{ pid }] = (await waiting()) as [{ pid: number }];
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    release();
    await holder;
    // The killed worker's transaction never commits: its connection ends and Postgres rolls it back.
    await until(async () => (await sql`select 1 from pg_stat_activity where pid = ${pid}`.execute(t.ctx.db)).rows.length === 0, 'the killed transaction to end', 60_000);
    expect(await entriesOf(t.ctx.db, payment.id)).toEqual([]);
    expect((await t.ctx.db.selectFrom('payment_events').select('applied_at').where('event_id', '=', event.id).executeTakeFirstOrThrow()).applied_at).toBeNull();

    const outcome = await withPaymentWorkers(() => t.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', event.id)).result());
    expect(outcome).toEqual({ outcome: 'applied', type: 'payment_intent.succeeded' });
    expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.idempotency_key)).toEqual([`payment/${payment.id}/succeeded`]);
    expect(await moneyOf(t.ctx.db, { creatorId: creator.id })).toMatchObject({ pending: 841n });
    expect(await getPayment(viewer, payment.id)).toMatchObject({ status: 'succeeded' });
    await expectWholeBooks(t.ctx.db);
  });

  it('asks Stripe again with the same idempotency key when its answer is lost, and a retried request ends at the same payment', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const stripe = t.ctx.config.payments.stripe!;
    const appVia = (url: string) => createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, payments: { ...t.ctx.config.payments, stripe: { ...stripe, apiBaseUrl: url } } } });
    const creates = (seen: { method: string; path: string; idempotencyKey: string | undefined }[]) =>
      seen.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').map((r) => r.idempotencyKey);

    // One answer lost: the Stripe client retries by itself with the same key.
    const lostOnce = await recordingProxy(stripe.apiBaseUrl!, { loseReplies: 1 });
    try {
      const payment = await startTip(t.ctx.db, appVia(lostOnce.url), viewer, { streamId, amount: 500 });
      expect(creates(lostOnce.seen)).toEqual([`streamhub/payment/${payment.id}/create`, `streamhub/payment/${payment.id}/create`]);
    } finally {
      await lostOnce.close();
    }

    // Every answer lost: the request fails (503); the client's retry with its Idempotency-Key
    // finds the same payment and asks Stripe under the same key again.
    const always = await recordingProxy(stripe.apiBaseUrl!, { loseReplies: 3 });
    try {
      const key = randomUUID();
      const body = { streamId, amount: 600, currency: 'USD' };
      const viaProxy = appVia(always.url);
      const failed = await call(viaProxy, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
      expect([failed.status, failed.json.error.code]).toEqual([503, 'unavailable']);
      const retried = await call(viaProxy, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
      expect(retried.status).toBe(200);
      const paymentId = retried.json.data.payment.id;
      expect(retried.json.data.clientSecret).toMatch(/_secret_/);
      expect(creates(always.seen)).toEqual(Array(4).fill(`streamhub/payment/${paymentId}/create`));
      expect(await t.ctx.db.selectFrom('payments').select('id').where('payer_id', '=', viewer.id).where('amount', '=', 600).execute()).toEqual([{ id: paymentId }]);
    } finally {
      await always.close();
    }
  });
  it('never asks Stripe for a second PaymentIntent once it may have forgotten the key of the first: the payment fails instead', async () => {
    const [viewer, creator] = [await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const stripe = t.ctx.config.payments.stripe!;
    const lost = await recordingProxy(stripe.apiBaseUrl!, { loseReplies: 3 });
    try {
      const viaProxy = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, payments: { ...t.ctx.config.payments, stripe: { ...stripe, apiBaseUrl: lost.url } } } });
      const key = randomUUID();
      const body = { streamId, amount: 700, currency: 'USD' };
      // Stripe made a PaymentIntent, but every answer was lost: we do not know it.
      const failed = await call(viaProxy, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
      expect([failed.status, failed.json.error.code]).toEqual([503, 'unavailable']);
      const row = await t.ctx.db.selectFrom('payments').select(['id', 'intent_requested_at']).where('payer_id', '=', viewer.id).where('amount', '=', 700).executeTakeFirstOrThrow();
      expect(row.intent_requested_at).toBeInstanceOf(Date);
      const asked = lost.seen.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').length;
      // A day later Stripe has forgotten the key: asking again would make a second PaymentIntent.
      await sql`update payments set intent_requested_at = intent_requested_at - interval '24 hours' where id = ${row.id}`.execute(t.ctx.db);
      const late = await call(viaProxy, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
      expect([late.status, late.json.error.code]).toEqual([409, 'payment_expired']);
      expect(lost.seen.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')).toHaveLength(asked);
      expect(await getPayment(viewer, row.id)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^expired/) });
      // Asked again: still no PaymentIntent, the same payment, failed.
      const again = await call(viaProxy, 'POST', '/api/v1/tips', { headers: { ...viewer.auth, 'idempotency-key': key }, body });
      expect(again.status).toBe(200);
      expect(again.json.data).toMatchObject({ payment: { id: row.id, status: 'failed' }, clientSecret: null });
      expect(lost.seen.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')).toHaveLength(asked);
    } finally {
      await lost.close();
    }
  });
});
