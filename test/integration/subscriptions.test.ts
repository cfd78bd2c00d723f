import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { createPaymentEventHandlers } from '../../activities/payment-handlers.ts';
import type { PaymentEventHandler } from '../../activities/payments.ts';
import { createSubscriptionEventHandlers } from '../../activities/subscription-events.ts';
import { accountCode, balancesOf, platformAccount, userAccount } from '../../lib/ledger/index.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { subscriptionRules } from '../../lib/subscriptions/config.ts';
import { hasPerks, splitSubscription, tierPrice } from '../../lib/subscriptions/rules.ts';
import { startSubscriptionWorkflow } from '../../lib/subscriptions/workflow-start.ts';
import type { SubscriptionStatus } from '../../lib/schema.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { capturingLogger, deliver } from '../support/payments.ts';
import { waitUntil } from '../support/wait.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Channel subscriptions end to end: subscribed through the API against stripe-mock, Stripe's
// signed invoice and subscription events through the real webhook into the
// `subscription/<id>` workflow, run by real workers; the books checked after every flow.
// Periods and grace are short (crafted invoice periods, a grace of a few seconds).

const t = useTestContext();
/** The deployment's grace (3 days): nothing lapses during a test. */
let app: App;
/** Grace of 2 seconds: a failed renewal lapses while the test waits. */
let shortGrace: App;
let creator: TestUser;

const GRACE_SECONDS = 2;
const logged = capturingLogger();

beforeAll(async () => {
  app = createApp(t.ctx.apiDeps());
  const config = t.ctx.config;
  shortGrace = createApp({ ...t.ctx.apiDeps(), config: { ...config, subscriptions: { ...config.subscriptions, graceSeconds: GRACE_SECONDS } } });
  creator = await newUser(app);
  await setRole(t.ctx.db, creator.id, 'creator');
});

const handlers = () =>
  new Map<string, PaymentEventHandler>([
    ...createPaymentEventHandlers({
      rules: moneyRules(t.ctx.config),
      disputeFee: 1500n,
      subscriptionShareBps: t.ctx.config.subscriptions.creatorShareBps,
      gifts: { graceSeconds: 3600 },
      logger: logged.logger,
    }),
    ...createSubscriptionEventHandlers({ logger: logged.logger, graceSeconds: t.ctx.config.subscriptions.graceSeconds }),
  ]);
const withSubscriptionWorkers = <T>(fn: () => Promise<T>) => withWorkers(t.ctx, fn, { media: false, stripeEventHandlers: handlers() });

const nowSeconds = () => Math.floor(Date.now() / 1000);
const DAY = 86_400;

interface Started {
  id: string;
  status: SubscriptionStatus;
  [field: string]: unknown;
}

async function subscribe(user: TestUser, tier = 1, key = randomUUID(), via = app): Promise<Started> {
  const res = await call(via, 'POST', `/api/v1/channels/${creator.id}/subscriptions`, { headers: { ...user.auth, 'idempotency-key': key }, body: { tier } });
  expect(res.status, res.text).toBe(201);
  return res.json.data.subscription;
}

/** An invoice of our subscription as Stripe's current API shapes it (our id in the parent's metadata). */
function invoice(subscriptionId: string, input: { id?: string; amount?: number; start: number; end: number; attempt?: number }) {
  const amount = input.amount ?? 499;
  return {
    id: input.id ?? `in_${randomBytes(8).toString('hex')}`,
    object: 'invoice',
    amount_due: amount,
    amount_paid: amount,
    currency: 'usd',
    attempt_count: input.attempt ?? 1,
    period_start: input.start,
    period_end: input.end,
    lines: { object: 'list', data: [{ object: 'line_item', amount, currency: 'usd', period: { start: input.start, end: input.end } }] },
    parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_fixture', metadata: { subscriptionId } } },
    metadata: {},
  };
}

const send = (type: string, object: Record<string, unknown>) => deliver(app, t.ctx, type, object);
const paid = (subscriptionId: string, input: Parameters<typeof invoice>[1]) => send('invoice.paid', invoice(subscriptionId, input));
const failed = (subscriptionId: string, input: Parameters<typeof invoice>[1]) =>
  send('invoice.payment_failed', { ...invoice(subscriptionId, input), amount_paid: 0, status: 'open', next_payment_attempt: nowSeconds() + DAY });

const row = (id: string) => t.ctx.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const untilStatus = (id: string, status: SubscriptionStatus, timeoutMs = 60_000) =>
  waitUntil(async () => {
    const r = await row(id);
    return r.status === status && r;
  }, `subscription ${id} ${status}`, timeoutMs);
const periodsOf = (id: string) => t.ctx.db.selectFrom('subscription_periods').selectAll().where('subscription_id', '=', id).orderBy('period_start').execute();
const untilPeriods = (id: string, count: number) => waitUntil(async () => (await periodsOf(id)).length === count, `${count} periods of ${id}`);
const entriesOf = (id: string) =>
  t.ctx.db.selectFrom('ledger_entries').select(['idempotency_key', 'kind']).where('idempotency_key', 'like', `subscription/${id}/%`).orderBy('idempotency_key').execute();
const pendingOf = async (userId: string) => {
  const ref = userAccount('earnings_pending', userId, 'USD');
  return (await balancesOf(t.ctx.db, [ref])).get(accountCode(ref)) ?? 0n;
};
const mine = (user: TestUser) => call(app, 'GET', `/api/v1/channels/${creator.id}/subscriptions/me`, { headers: user.auth });

describe('subscribing', () => {
  it('answers a repeated request with the same subscription, refuses a second one (409) and your own channel (422)', async () => {
    const viewer = await newUser(app);
    const key = randomUUID();
    const first = await call(app, 'POST', `/api/v1/channels/${creator.username}/subscriptions`, { headers: { ...viewer.auth, 'idempotency-key': key }, body: { tier: 2 } });
    expect(first.status, first.text).toBe(201);
    const sub = first.json.data.subscription;
    expect(sub).toMatchObject({
      channel: { id: creator.id, username: creator.username },
      subscriber: { id: viewer.id },
      tier: 2,
      tierName: 'Tier 2',
      price: Number(tierPrice(subscriptionRules(t.ctx.config), 2)),
      currency: 'USD',
      status: 'incomplete',
      renews: true,
      cancelAtPeriodEnd: false,
      gift: null,
      monthsSubscribed: 0,
    });
    const again = await call(app, 'POST', `/api/v1/channels/${creator.username}/subscriptions`, { headers: { ...viewer.auth, 'idempotency-key': key }, body: { tier: 2 } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.data).toEqual(first.json.data);
    const reused = await call(app, 'POST', `/api/v1/channels/${creator.username}/subscriptions`, { headers: { ...viewer.auth, 'idempotency-key': key }, body: { tier: 3 } });
    expect(reused.json.error.code).toBe('idempotency_key_reused');

    const second = await call(app, 'POST', `/api/v1/channels/${creator.id}/subscriptions`, { headers: { ...viewer.auth, 'idempotency-key': randomUUID() }, body: { tier: 1 } });
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: 'conflict', details: { subscriptionId: sub.id } });

    const self = await call(app, 'POST', `/api/v1/channels/${creator.id}/subscriptions`, { headers: { ...creator.auth, 'idempotency-key': randomUUID() }, body: { tier: 1 } });
    expect(self.status).toBe(422);
    expect(self.json.error.code).toBe('unprocessable');

    const noKey = await call(app, 'POST', `/api/v1/channels/${creator.id}/subscriptions`, { headers: viewer.auth, body: { tier: 1 } });
    expect(noKey.status).toBe(400);
    const badTier = await call(app, 'POST', `/api/v1/channels/${creator.id}/subscriptions`, { headers: { ...viewer.auth, 'idempotency-key': randomUUID() }, body: { tier: 4 } });
    expect(badTier.status).toBe(400);

    const stored = await row(sub.id);
    expect(stored.provider_customer_id).toMatch(/^cus_/);
    expect((await mine(viewer)).json.data.id).toBe(sub.id);
    const list = await call(app, 'GET', '/api/v1/users/me/subscriptions?status=current', { headers: viewer.auth });
    expect(list.json.data.map((s: { id: string }) => s.id)).toEqual([sub.id]);
  });

  it('counts subscribes, cancels and tier changes against the per-user hourly limit', async () => {
    const config = t.ctx.config;
    const strict = createApp({ ...t.ctx.apiDeps(), config: { ...config, subscriptions: { ...config.subscriptions, changesPerHour: 2 } } });
    const viewer = await newUser(app);
    const sub = await subscribe(viewer, 1, randomUUID(), strict);
    // The second counts (and is refused for what it is: not active yet); the third is over the limit.
    expect((await call(strict, 'POST', `/api/v1/users/me/subscriptions/${sub.id}/cancel`, { headers: viewer.auth })).status).toBe(409);
    const limited = await call(strict, 'POST', `/api/v1/users/me/subscriptions/${sub.id}/change-tier`, { headers: viewer.auth, body: { tier: 2 } });
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'subscription' } });
    // Reads are not counted.
    expect((await call(strict, 'GET', '/api/v1/users/me/subscriptions?status=all&limit=1', { headers: viewer.auth })).json.data.map((s: { id: string }) => s.id)).toEqual([sub.id]);
  });

  it('lists tiers with the creator’s names; only the creator renames them', async () => {
    const renamed = await call(app, 'PUT', '/api/v1/channels/me/subscription-tiers', { headers: creator.auth, body: { tiers: [{ tier: 1, name: 'Fan' }, { tier: 3, name: 'Patron' }] } });
    expect(renamed.status, renamed.text).toBe(200);
    const rules = subscriptionRules(t.ctx.config);
    const expected = [
      { tier: 1, name: 'Fan', price: Number(rules.tierPrices[0]), currency: 'USD' },
      { tier: 2, name: 'Tier 2', price: Number(rules.tierPrices[1]), currency: 'USD' },
      { tier: 3, name: 'Patron', price: Number(rules.tierPrices[2]), currency: 'USD' },
    ];
    expect(renamed.json.data).toEqual(expected);
    expect((await call(app, 'GET', `/api/v1/channels/${creator.username}/subscription-tiers`)).json.data).toEqual(expected);
    const viewer = await newUser(app);
    expect((await call(app, 'PUT', '/api/v1/channels/me/subscription-tiers', { headers: viewer.auth, body: { tiers: [{ tier: 1, name: 'x' }] } })).status).toBe(403);
    expect((await call(app, 'PUT', '/api/v1/channels/me/subscription-tiers', { headers: creator.auth, body: { tiers: [{ tier: 1, name: '' }] } })).status).toBe(400);
    await call(app, 'PUT', '/api/v1/channels/me/subscription-tiers', { headers: creator.auth, body: { tiers: [{ tier: 1, name: 'Tier 1' }, { tier: 3, name: 'Tier 3' }] } });
  });
});

describe('the subscription workflow', () => {
  it('ends an unpaid subscription as incomplete_expired 23 hours after it began, or when Stripe expires it: nothing booked, subscribing again works', async () => {
    // Subscribed while no worker runs, then dated back 23 hours and a minute: the workflow's
    // first look finds the first invoice's time over. The younger one keeps waiting for its payment.
    const late = await newUser(app);
    const expired = await subscribe(late);
    await t.ctx.db.updateTable('subscriptions').set({ created_at: sql`now() - interval '23 hours 1 minute'` }).where('id', '=', expired.id).execute();
    const waiting = await subscribe(await newUser(app));
    await withSubscriptionWorkers(async () => {
      expect(await untilStatus(expired.id, 'ended')).toMatchObject({ ended_reason: 'incomplete_expired' });
      expect((await row(waiting.id)).status).toBe('incomplete');
      await send('customer.subscription.updated', { id: 'sub_fixture', object: 'subscription', status: 'incomplete_expired', cancel_at_period_end: false, metadata: { subscriptionId: waiting.id } });
      expect(await untilStatus(waiting.id, 'ended')).toMatchObject({ ended_reason: 'incomplete_expired' });
    });
    for (const id of [expired.id, waiting.id]) {
      expect(await periodsOf(id)).toEqual([]);
      expect(await entriesOf(id)).toEqual([]);
    }
    expect((await mine(late)).json.data).toMatchObject({ id: expired.id, status: 'ended', endedReason: 'incomplete_expired' });
    const again = await subscribe(late);
    expect(again).toMatchObject({ status: 'incomplete' });
    expect(again.id).not.toBe(expired.id);
  }, 120_000);

  it('books each paid period once with the creator’s share, renews, and ignores duplicates and late events', async () => {
    await withSubscriptionWorkers(async () => {
      const viewer = await newUser(app);
      const before = await pendingOf(creator.id);
      const sub = await subscribe(viewer);
      const start = nowSeconds();
      const first = invoice(sub.id, { start, end: start + 30 * DAY });
      await send('invoice.paid', first);
      await untilStatus(sub.id, 'active');
      await untilPeriods(sub.id, 1);

      const split = splitSubscription(499n, moneyRules(t.ctx.config), t.ctx.config.subscriptions.creatorShareBps);
      expect(await pendingOf(creator.id)).toBe(before + split.creator);
      // 4.99: the provider keeps 2.9 % + 0.30 = 0.44; the creator gets half of 4.55.
      expect(split).toEqual({ processing: 44n, creator: 227n, platform: 228n });
      expect(await entriesOf(sub.id)).toEqual([{ idempotency_key: `subscription/${sub.id}/invoice/${first.id}`, kind: 'subscription.period_paid' }]);
      const view = (await mine(viewer)).json.data;
      expect(view).toMatchObject({ status: 'active', monthsSubscribed: 1, currentPeriodEnd: new Date((start + 30 * DAY) * 1000).toISOString() });
      expect(hasPerks(view.status)).toBe(true);

      // The same invoice again (a new event), and its late failure: nothing changes.
      await send('invoice.paid', first);
      await send('invoice.payment_failed', { ...first, amount_paid: 0 });
      // Renewal, then an older invoice that arrives late: booked (the money came in), period unchanged.
      const renewal = invoice(sub.id, { start: start + 30 * DAY, end: start + 60 * DAY });
      await send('invoice.paid', renewal);
      await untilPeriods(sub.id, 2);
      const older = invoice(sub.id, { start: start - 30 * DAY, end: start });
      await send('invoice.paid', older);
      await untilPeriods(sub.id, 3);
      await send('invoice.paid', renewal);

      const settled = await waitUntil(async () => {
        const r = await row(sub.id);
        return r.current_period_end?.getTime() === (start + 60 * DAY) * 1000 && r;
      }, 'the renewal period');
      expect(settled.status).toBe('active');
      expect((await entriesOf(sub.id)).length).toBe(3);
      expect(await pendingOf(creator.id)).toBe(before + 3n * split.creator);
      expect((await mine(viewer)).json.data.monthsSubscribed).toBe(3);
      // Duplicates are absorbed by the workflow's idempotent activities: still three periods.
      expect((await periodsOf(sub.id)).map((p) => p.provider_invoice_id).sort()).toEqual([first.id, renewal.id, older.id].sort());
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);

  it('goes past due on a failed renewal and back to active when it is paid within grace', async () => {
    await withSubscriptionWorkers(async () => {
      const viewer = await newUser(app);
      const sub = await subscribe(viewer);
      const start = nowSeconds() - 29 * DAY;
      await paid(sub.id, { start, end: start + 30 * DAY });
      await untilStatus(sub.id, 'active');
      const renewal = { id: `in_${randomBytes(8).toString('hex')}`, start: start + 30 * DAY, end: start + 60 * DAY };
      await failed(sub.id, renewal);
      const due = await untilStatus(sub.id, 'past_due');
      expect(due.past_due_since).not.toBeNull();
      expect(hasPerks('past_due')).toBe(true);
      expect((await mine(viewer)).json.data.pastDueSince).toBe(due.past_due_since!.toISOString());
      await paid(sub.id, { ...renewal, attempt: 2 });
      const back = await untilStatus(sub.id, 'active');
      expect(back.past_due_since).toBeNull();
      expect(back.current_period_end!.getTime()).toBe(renewal.end * 1000);
      expect((await entriesOf(sub.id)).length).toBe(2);
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);

  it('lapses when the grace period passes unpaid: the perks are gone', async () => {
    await withSubscriptionWorkers(async () => {
      const viewer = await newUser(app);
      const sub = await subscribe(viewer, 1, randomUUID(), shortGrace);
      const start = nowSeconds() - 29 * DAY;
      await paid(sub.id, { start, end: start + 30 * DAY });
      await untilStatus(sub.id, 'active');
      await failed(sub.id, { start: start + 30 * DAY, end: start + 60 * DAY });
      await untilStatus(sub.id, 'past_due');
      const lapsed = await untilStatus(sub.id, 'lapsed');
      expect(lapsed).toMatchObject({ ended_reason: 'lapsed' });
      expect(hasPerks(lapsed.status)).toBe(false);
      const view = (await mine(viewer)).json.data;
      expect(view).toMatchObject({ status: 'lapsed', endedReason: 'lapsed', monthsSubscribed: 1 });
      // A late payment after the lapse: booked, status unchanged; a new subscription is possible.
      expect((await call(app, 'GET', '/api/v1/users/me/subscriptions?status=current', { headers: viewer.auth })).json.data).toEqual([]);
      const again = await subscribe(viewer);
      const first = await call(app, 'GET', '/api/v1/users/me/subscriptions?status=all&limit=1', { headers: viewer.auth });
      expect(first.json.data.map((s: { id: string }) => s.id)).toEqual([again.id]);
      const rest = await call(app, 'GET', `/api/v1/users/me/subscriptions?status=all&limit=1&cursor=${first.json.meta.nextCursor}`, { headers: viewer.auth });
      expect(rest.json.data.map((s: { id: string }) => s.id)).toEqual([sub.id]);
      expect(rest.json.meta.nextCursor).toBeNull();
      expect((await mine(viewer)).json.data.id).toBe(again.id);
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);

  it('keeps a cancelled subscription until its period ends, then ends it; a resumed one stays', async () => {
    await withSubscriptionWorkers(async () => {
      const leaving = await newUser(app);
      const staying = await newUser(app);
      const a = await subscribe(leaving);
      const b = await subscribe(staying);
      // Long enough for the cancel and resume below to land before it.
      const end = nowSeconds() + 15;
      await paid(a.id, { start: end - 30 * DAY, end });
      await paid(b.id, { start: end - 30 * DAY, end });
      await untilStatus(a.id, 'active');
      await untilStatus(b.id, 'active');

      const cancelled = await call(app, 'POST', `/api/v1/users/me/subscriptions/${a.id}/cancel`, { headers: leaving.auth });
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.json.data).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
      expect((await call(app, 'POST', `/api/v1/users/me/subscriptions/${a.id}/cancel`, { headers: staying.auth })).status).toBe(404);
      await call(app, 'POST', `/api/v1/users/me/subscriptions/${b.id}/cancel`, { headers: staying.auth });
      const resumed = await call(app, 'POST', `/api/v1/users/me/subscriptions/${b.id}/resume`, { headers: staying.auth });
      expect(resumed.status, resumed.text).toBe(200);
      expect(resumed.json.data).toMatchObject({ status: 'active', cancelAtPeriodEnd: false });

      expect((await row(a.id)).status).toBe('active');
      const ended = await untilStatus(a.id, 'ended');
      expect(ended.ended_reason).toBe('canceled');
      expect(ended.ended_at!.getTime()).toBeGreaterThanOrEqual(end * 1000);
      // b's period is over too, and it is still active (its renewal is due within the grace).
      expect((await row(b.id)).status).toBe('active');
      const view = (await mine(leaving)).json.data;
      expect(view).toMatchObject({ id: a.id, status: 'ended', endedReason: 'canceled' });
      expect((await call(app, 'POST', `/api/v1/users/me/subscriptions/${a.id}/resume`, { headers: leaving.auth })).status).toBe(409);
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);

  it('changes tier (the next invoice books its own amount) and ends when Stripe deletes the subscription', async () => {
    await withSubscriptionWorkers(async () => {
      const viewer = await newUser(app);
      const sub = await subscribe(viewer);
      const start = nowSeconds();
      await paid(sub.id, { start, end: start + 30 * DAY });
      await untilStatus(sub.id, 'active');
      const changed = await call(app, 'POST', `/api/v1/users/me/subscriptions/${sub.id}/change-tier`, { headers: viewer.auth, body: { tier: 2 } });
      expect(changed.status, changed.text).toBe(200);
      expect(changed.json.data).toMatchObject({ tier: 2, price: Number(tierPrice(subscriptionRules(t.ctx.config), 2)) });
      // A prorated invoice: what Stripe charged is what is booked.
      const before = await pendingOf(creator.id);
      await paid(sub.id, { amount: 750, start: start + 30 * DAY, end: start + 60 * DAY });
      await untilPeriods(sub.id, 2);
      expect(await pendingOf(creator.id)).toBe(before + splitSubscription(750n, moneyRules(t.ctx.config), t.ctx.config.subscriptions.creatorShareBps).creator);
      expect((await periodsOf(sub.id)).map((p) => [Number(p.amount), p.tier])).toEqual([
        [499, 1],
        [750, 2],
      ]);

      await send('customer.subscription.deleted', { id: 'sub_fixture', object: 'subscription', status: 'canceled', cancel_at_period_end: false, metadata: { subscriptionId: sub.id } });
      const ended = await untilStatus(sub.id, 'ended');
      expect(ended.ended_reason).toBe('provider_deleted');
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);

  it('runs a gift for one period with no ledger entry of its own, then ends it', async () => {
    await withSubscriptionWorkers(async () => {
      const giver = await newUser(app);
      const recipient = await newUser(app);
      const giftId = randomUUID();
      await t.ctx.db.insertInto('subscription_gifts').values({ id: giftId, giver_id: giver.id, channel_id: creator.id, tier: 1, quantity: 1, status: 'paid' }).execute();
      const id = randomUUID();
      await t.ctx.db
        .insertInto('subscriptions')
        .values({ id, subscriber_id: recipient.id, channel_id: creator.id, tier: 1, price: '499', currency: 'USD', renews: false, gift_id: giftId })
        .execute();
      await startSubscriptionWorkflow(t.ctx.temporal, { subscriptionId: id, graceSeconds: 60, giftPeriodSeconds: 3 }, creator.id);
      const active = await untilStatus(id, 'active');
      expect(active.current_period_end!.getTime() - active.current_period_start!.getTime()).toBe(3000);
      expect(await periodsOf(id)).toMatchObject([{ provider_invoice_id: `gift:${id}`, entry_id: null, amount: expect.anything() }]);
      expect(Number((await periodsOf(id))[0]!.amount)).toBe(499);
      const view = (await mine(recipient)).json.data;
      expect(view).toMatchObject({ status: 'active', renews: false, gift: { id: giftId, giver: { id: giver.id, username: giver.username } }, monthsSubscribed: 1 });
      expect((await call(app, 'POST', `/api/v1/users/me/subscriptions/${id}/cancel`, { headers: recipient.auth })).status).toBe(409);
      const ended = await untilStatus(id, 'ended');
      expect(ended.ended_reason).toBe('gift_expired');
      expect(await entriesOf(id)).toEqual([]);
      await expectWholeBooks(t.ctx.db);
    });
  }, 120_000);
});

describe('a worker killed mid-renewal', () => {
  it('books the renewal once', async () => {
    const viewer = await newUser(app);
    const sub = await subscribe(viewer);
    const start = nowSeconds();
    await withSubscriptionWorkers(async () => {
      await paid(sub.id, { start, end: start + 30 * DAY });
      await untilStatus(sub.id, 'active');
    });
    const before = await pendingOf(creator.id);
    const renewal = invoice(sub.id, { start: start + 30 * DAY, end: start + 60 * DAY });

    // The production worker process takes the renewal; the test holds the subscription's row so
    // its booking waits mid-transaction, and kills the worker there.
    const worker = await spawnWorkerProcess(t.ctx, 'platform');
    const held = t.ctx.db.transaction().execute(async (trx) => {
      await sql`select id from subscriptions where id = ${sub.id} for update`.execute(trx);
      await send('invoice.paid', renewal);
      await waitUntil(async () => {
        const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_locks where not granted`.execute(t.ctx.db);
        return rows[0]!.waiting > 0;
      }, 'the worker waiting for the subscription row');
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
    });
    await held;
    expect(await periodsOf(sub.id)).toHaveLength(1);

    await withSubscriptionWorkers(async () => {
      await untilPeriods(sub.id, 2);
      // And the same renewal delivered again after the crash.
      await send('invoice.paid', renewal);
      await waitUntil(async () => (await row(sub.id)).current_period_end?.getTime() === (start + 60 * DAY) * 1000, 'the renewal period');
    });
    expect((await entriesOf(sub.id)).length).toBe(2);
    expect(await pendingOf(creator.id)).toBe(before + splitSubscription(499n, moneyRules(t.ctx.config), t.ctx.config.subscriptions.creatorShareBps).creator);
    await expectWholeBooks(t.ctx.db);
  }, 240_000);
});
