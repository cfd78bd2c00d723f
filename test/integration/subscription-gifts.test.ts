import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { restrict } from '../../lib/moderation/channel-store.ts';
import { splitSubscription } from '../../lib/subscriptions/rules.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestContext } from '../support/context.ts';
import { insertBulkUsers, insertFollowers, newUser, setRole, setStatus, type TestUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { capturingLogger, deliver, entriesOf, GIFT_PERIOD_SECONDS, moneyOf, moneyRules, paymentHandlers, stripeObjects, SUBSCRIPTION_SHARE_BPS, type StartedPayment } from '../support/payments.ts';
import { withWorkers } from '../support/workers.ts';

// Gift subscriptions end to end: bought through the API against stripe-mock, paid by a signed
// `payment_intent.succeeded` through the real webhook, booked and distributed by real workers
// (the `subscription-gift/<id>` workflow), each recipient's `subscription/<id>` workflow started.

const t = useTestContext();
let app: App;
const started: string[] = [];

beforeAll(() => {
  app = createApp(t.ctx.apiDeps());
});
// The subscriptions' own workflows belong to the lifecycle; here only their start is checked.
afterAll(async () => {
  for (const id of started) await t.ctx.temporal.client.workflow.getHandle(id).terminate('test over').catch(() => {});
});

const logged = capturingLogger();
const withPaymentWorkers = <T>(fn: () => Promise<T>) => withWorkers(t.ctx, fn, { media: false, stripeEventHandlers: paymentHandlers(logged.logger) });
const send = (type: string, object: Record<string, unknown>) => deliver(app, t.ctx, type, object);
const tierPrice = (tier: 1 | 2 | 3) => t.ctx.config.subscriptions.tierPricesMinor[tier - 1]!;
const change = (after: Record<string, bigint>, before: Record<string, bigint>) => Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k]!]));

const buy = (giver: TestUser, channelId: string, body: Record<string, unknown>, key = randomUUID(), on = app) =>
  call(on, 'POST', `/api/v1/channels/${channelId}/subscription-gifts`, { headers: { ...giver.auth, 'idempotency-key': key }, body });

/** Signed-in viewers seen in a stream's room, as the gateways record them (realtime/viewers.ts). */
async function seeInRoom(streamId: string, userIds: string[]) {
  await t.ctx.db
    .insertInto('stream_viewers')
    .values(userIds.map((id) => ({ stream_id: streamId, viewer_key: `u:${id}` })))
    .execute();
}

/** A current (not yet paid) subscription of `subscriberId` to `channelId`. */
async function subscribed(subscriberId: string, channelId: string) {
  await t.ctx.db
    .insertInto('subscriptions')
    .values({ id: randomUUID(), subscriber_id: subscriberId, channel_id: channelId, tier: 1, price: String(tierPrice(1)), currency: 'USD' })
    .execute();
}

const banInChat = (channel: TestUser, userId: string) => restrict(t.ctx.db, channel.id, channel, { id: userId, username: 'someone' }, { type: 'ban', reason: 'spam' });

async function paymentOf(paymentId: string): Promise<StartedPayment> {
  const row = await t.ctx.db.selectFrom('payments').select(['id', 'kind', 'amount', 'status', 'provider_payment_intent_id']).where('id', '=', paymentId).executeTakeFirstOrThrow();
  return { id: row.id, kind: row.kind, amount: Number(row.amount), status: row.status, clientSecret: '', paymentIntentId: row.provider_payment_intent_id! };
}

const distribution = (giftId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.subscriptionGift(giftId)).result();
const giftSubscriptions = (giftId: string) =>
  t.ctx.db.selectFrom('subscriptions').select(['id', 'subscriber_id', 'channel_id', 'tier', 'price', 'currency', 'renews', 'gift_id']).where('gift_id', '=', giftId).execute();

describe('gift subscriptions', { timeout: 180_000 }, () => {
  it('a paid gift of 5 in a live room: 5 subscriptions for 5 eligible viewers, each its own workflow; booked once, the books whole', async () => {
    const [giver, channel, admin, stranger] = [await newUser(app), await newUser(app), await newUser(app), await newUser(app)];
    await setRole(t.ctx.db, admin.id, 'admin');
    const streamId = await insertStream(t.ctx, channel.id, 'live');
    const eligible = await insertBulkUsers(t.ctx.db, 7);
    const [chatBanned, alreadySubscribed, accountBanned] = await insertBulkUsers(t.ctx.db, 3);
    await banInChat(channel, chatBanned!);
    await subscribed(alreadySubscribed!, channel.id);
    await setStatus(t.ctx.db, accountBanned!, 'banned');
    await seeInRoom(streamId, [...eligible, chatBanned!, alreadySubscribed!, accountBanned!, giver.id, channel.id]);
    await t.ctx.db.insertInto('stream_viewers').values({ stream_id: streamId, viewer_key: 'a:anonymous-viewer' }).execute();

    const key = randomUUID();
    const body = { tier: 2, quantity: 5, streamId };
    const res = await buy(giver, channel.id, body, key);
    expect(res.status, res.text).toBe(201);
    const amount = 5 * tierPrice(2);
    expect(res.json.data).toEqual({
      gift: { id: expect.any(String), tier: 2, quantity: 5, amount, currency: 'USD', status: 'pending' },
      payment: { id: expect.any(String), status: 'requires_payment', clientSecret: expect.stringMatching(/^pi_\w+_secret_\w+$/) },
    });
    const { gift, payment } = res.json.data;
    // A retry of the request: the same gift and payment, nothing new.
    const again = await buy(giver, channel.id, body, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.data).toEqual(res.json.data);
    expect(await t.ctx.db.selectFrom('subscription_gifts').select('id').where('giver_id', '=', giver.id).execute()).toEqual([{ id: gift.id }]);
    expect(await t.ctx.db.selectFrom('payments').selectAll().where('id', '=', payment.id).executeTakeFirstOrThrow()).toMatchObject({
      kind: 'subscription_gift',
      payer_id: giver.id,
      creator_id: channel.id,
      stream_id: streamId,
      video_id: null,
      amount: amount,
      currency: 'USD',
    });
    // The same key with another body is another request: refused.
    const reused = await buy(giver, channel.id, { ...body, quantity: 4 }, key);
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('idempotency_key_reused');

    const paid = await paymentOf(payment.id);
    const before = await moneyOf(t.ctx.db, { creatorId: channel.id });
    const result = await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      // The same news again under another event id: nothing more.
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      return distribution(gift.id);
    });
    expect(result).toMatchObject({ status: 'distributed', quantity: 5, distributed: 5 });

    const subscriptions = await giftSubscriptions(gift.id);
    expect(subscriptions).toHaveLength(5);
    const recipients = subscriptions.map((s) => s.subscriber_id);
    expect(new Set(recipients).size).toBe(5);
    for (const r of recipients) expect(eligible).toContain(r);
    for (const s of subscriptions) expect(s).toMatchObject({ channel_id: channel.id, tier: 2, price: tierPrice(2), currency: 'USD', renews: false, gift_id: gift.id });
    expect(result.subscriptionIds.sort()).toEqual(subscriptions.map((s) => s.id).sort());

    // Each recipient's subscription is its own `subscription/<id>` workflow, given the gift's short period.
    for (const s of subscriptions) {
      const handle = t.ctx.temporal.client.workflow.getHandle(workflowIds.subscription(s.id));
      started.push(handle.workflowId);
      const described = await handle.describe();
      expect(described.type).toBe('subscriptionLifecycle');
      expect(described.taskQueue).toBe(t.ctx.config.temporal.taskQueue);
      const history = await handle.fetchHistory();
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!;
      expect(JSON.parse(Buffer.from(input).toString())).toEqual({ subscriptionId: s.id, graceSeconds: 3600, giftPeriodSeconds: GIFT_PERIOD_SECONDS });
    }

    // Booked once: the creator's share of the whole amount to pending earnings.
    const split = splitSubscription(BigInt(amount), moneyRules, SUBSCRIPTION_SHARE_BPS);
    expect(change(await moneyOf(t.ctx.db, { creatorId: channel.id }), before)).toMatchObject({
      pending: split.creator,
      clearing: BigInt(amount) - split.processing,
      fees: split.processing,
      revenue: split.platform + split.processing,
    });
    expect(split.creator).toBeGreaterThan(0n);
    expect((await entriesOf(t.ctx.db, payment.id)).map((e) => [e.idempotency_key, e.kind])).toEqual([[`payment/${payment.id}/succeeded`, 'subscription_gift']]);
    await expectWholeBooks(t.ctx.db);

    // The giver (and admins) see the gift and who received it; nobody else does.
    const shown = await call(app, 'GET', `/api/v1/subscription-gifts/${gift.id}`, { headers: giver.auth });
    expect(shown.status, shown.text).toBe(200);
    expect(shown.json.data).toMatchObject({
      id: gift.id,
      tier: 2,
      quantity: 5,
      amount,
      status: 'distributed',
      distributedCount: 5,
      streamId,
      channel: { id: channel.id, username: channel.username },
      giver: { id: giver.id, username: giver.username },
      payment: { id: payment.id, status: 'succeeded' },
    });
    expect(shown.json.data.recipients.map((r: { user: { id: string }; subscriptionId: string }) => [r.user.id, r.subscriptionId]).sort()).toEqual(
      subscriptions.map((s) => [s.subscriber_id, s.id]).sort(),
    );
    expect((await call(app, 'GET', `/api/v1/subscription-gifts/${gift.id}`, { headers: admin.auth })).status).toBe(200);
    const other = await call(app, 'GET', `/api/v1/subscription-gifts/${gift.id}`, { headers: stranger.auth });
    expect(other.status).toBe(404);
    expect((await call(app, 'GET', `/api/v1/payments/${payment.id}`, { headers: giver.auth })).json.data).toMatchObject({ kind: 'subscription_gift', status: 'succeeded' });
  });

  it('fills from the channel’s followers when the room has too few, records a short distribution, and a refund reverses the creator’s share', async () => {
    const [giver, channel] = [await newUser(app), await newUser(app)];
    // An ended stream: its room is not checked when buying, and had one eligible viewer.
    const streamId = await insertStream(t.ctx, channel.id, 'ended');
    const [viewer] = await insertBulkUsers(t.ctx.db, 1);
    await seeInRoom(streamId, [viewer!]);
    const followers = await insertFollowers(t.ctx.db, channel.id, 4);
    await subscribed(followers[0]!, channel.id);
    await banInChat(channel, followers[1]!);

    const res = await buy(giver, channel.id, { tier: 1, quantity: 5, streamId });
    expect(res.status, res.text).toBe(201);
    const { gift, payment } = res.json.data;
    const paid = await paymentOf(payment.id);
    const before = await moneyOf(t.ctx.db, { creatorId: channel.id });
    const result = await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      const distributed = await distribution(gift.id);
      // Stripe refunds the whole gift: the creator's share comes back, the books stay whole.
      await send('charge.refunded', stripeObjects.refunded(paid, paid.amount));
      return distributed;
    });
    // One viewer and two eligible followers: three of five given, the rest left for an operator.
    expect(result).toMatchObject({ status: 'distributed', quantity: 5, distributed: 3 });
    const subscriptions = await giftSubscriptions(gift.id);
    for (const s of subscriptions) started.push(workflowIds.subscription(s.id));
    expect(subscriptions.map((s) => s.subscriber_id).sort()).toEqual([viewer!, followers[2]!, followers[3]!].sort());
    expect(await t.ctx.db.selectFrom('subscription_gifts').select(['status', 'distributed_count']).where('id', '=', gift.id).executeTakeFirstOrThrow()).toEqual({
      status: 'distributed',
      distributed_count: 3,
    });
    for (const s of subscriptions) expect((await t.ctx.temporal.client.workflow.getHandle(workflowIds.subscription(s.id)).describe()).type).toBe('subscriptionLifecycle');

    const after = change(await moneyOf(t.ctx.db, { creatorId: channel.id }), before);
    expect(after.pending! + after.available!).toBe(0n);
    expect((await entriesOf(t.ctx.db, payment.id)).map((e) => e.kind)).toEqual(['subscription_gift', 'subscription_gift.refund']);
    expect((await call(app, 'GET', `/api/v1/payments/${payment.id}`, { headers: giver.auth })).json.data.status).toBe('refunded');
    await expectWholeBooks(t.ctx.db);
  });

  it('gives followers when no stream is named', async () => {
    const [giver, channel] = [await newUser(app), await newUser(app)];
    const followers = await insertFollowers(t.ctx.db, channel.id, 3);
    const res = await buy(giver, channel.id, { tier: 3, quantity: 2 });
    expect(res.status, res.text).toBe(201);
    const { gift, payment } = res.json.data;
    expect(gift.amount).toBe(2 * tierPrice(3));
    const paid = await paymentOf(payment.id);
    const result = await withPaymentWorkers(async () => {
      await send('payment_intent.succeeded', stripeObjects.succeeded(paid));
      return distribution(gift.id);
    });
    expect(result).toMatchObject({ status: 'distributed', distributed: 2 });
    const subscriptions = await giftSubscriptions(gift.id);
    for (const s of subscriptions) started.push(workflowIds.subscription(s.id));
    expect(subscriptions).toHaveLength(2);
    for (const s of subscriptions) expect(followers).toContain(s.subscriber_id);
    await expectWholeBooks(t.ctx.db);
  });

  it('refuses your own channel, a live room with too few eligible viewers, a giver banned from the chat, bad fields, and too many gifts an hour', async () => {
    const [giver, channel, banned] = [await newUser(app), await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, channel.id, 'live');
    const viewers = await insertBulkUsers(t.ctx.db, 3);
    await subscribed(viewers[2]!, channel.id);
    await seeInRoom(streamId, [...viewers, giver.id]);

    const own = await buy(channel, channel.id, { tier: 1, quantity: 1 });
    expect(own.status).toBe(422);
    expect(own.json.error.code).toBe('unprocessable');

    // Two eligible viewers (the third is subscribed, the giver does not count).
    const tooMany = await buy(giver, channel.id, { tier: 1, quantity: 3, streamId });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.error).toMatchObject({ code: 'unprocessable', details: { eligible: 2, quantity: 3 } });
    expect((await buy(giver, channel.id, { tier: 1, quantity: 2, streamId })).status).toBe(201);

    await banInChat(channel, banned.id);
    const refused = await buy(banned, channel.id, { tier: 1, quantity: 1 });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'forbidden', details: { reason: 'chat_banned' } });

    // The ban is the channel's: another channel takes the same user's gift.
    expect((await buy(banned, giver.id, { tier: 1, quantity: 1 })).status).toBe(201);
    const otherStream = await insertStream(t.ctx, giver.id, 'live');
    expect((await buy(giver, channel.id, { tier: 1, quantity: 1, streamId: otherStream })).status).toBe(404);
    expect((await buy(giver, randomUUID(), { tier: 1, quantity: 1 })).status).toBe(404);
    for (const bad of [{ tier: 4, quantity: 1 }, { tier: 1, quantity: 0 }, { tier: 1, quantity: 101 }, { tier: 1 }, { tier: 1, quantity: 1, extra: true }]) {
      const r = await buy(giver, channel.id, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    const noKey = await call(app, 'POST', `/api/v1/channels/${channel.id}/subscription-gifts`, { headers: giver.auth, body: { tier: 1, quantity: 1 } });
    expect(noKey.status).toBe(400);
    expect((await call(app, 'POST', `/api/v1/channels/${channel.id}/subscription-gifts`, { headers: { 'idempotency-key': 'k' }, body: { tier: 1, quantity: 1 } })).status).toBe(401);

    const limited = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, subscriptions: { ...t.ctx.config.subscriptions, changesPerHour: 2 } } });
    const hurried = await newUser(app);
    for (let i = 0; i < 2; i++) expect((await buy(hurried, channel.id, { tier: 1, quantity: 1 }, randomUUID(), limited)).status).toBe(201);
    const third = await buy(hurried, channel.id, { tier: 1, quantity: 1 }, randomUUID(), limited);
    expect(third.status).toBe(429);
    expect(third.json.error.code).toBe('rate_limited');
  });
});
