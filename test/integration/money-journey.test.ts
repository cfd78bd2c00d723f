import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createApp, type App } from '../../api/app.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, startGateways, until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { buyCoins, capturingLogger, deliver, paymentHandlers, startTip, stripeObjects } from '../support/payments.ts';
import { withWorkers } from '../support/workers.ts';

// Issue #13's "done means", as one person's journey through the public API: a viewer buys
// coins, gifts during a live stream and tips its creator; the room sees both; the creator's
// earnings are pending, then available; a refund takes the tip back; finance's trial balance
// is balanced after every step. Only the API, signed webhooks and real workers are used.

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

describe('money in, end to end', () => {
  it('coins → gift → tip → earnings pending then available → refund, with the books balanced at every step', { timeout: 180_000 }, async () => {
    const [viewer, creator, financeUser] = [await newUser(app), await newUser(app), await newUser(app)];
    await setRole(t.ctx.db, creator.id, 'creator');
    await setRole(t.ctx.db, financeUser.id, 'finance');
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const room = await connectSocket(urls[0]!, '', sockets);
    room.send({ type: 'join', streamId });
    await until(() => room.frames.some((f) => f.type === 'joined'), 'joined the room');

    const get = async (user: TestUser, path: string) => {
      const res = await call(app, 'GET', path, { headers: user.auth });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      return res.json.data;
    };
    const expectBalancedBooks = async () => {
      const trial = await get(financeUser, '/api/v1/finance/trial-balance');
      expect(trial.balanced, JSON.stringify(trial)).toBe(true);
    };
    const earnings = async () => {
      const { pending, available, reserved } = await get(creator, '/api/v1/creators/me/earnings');
      return { pending, available, reserved };
    };

    const tip = await withWorkers(
      t.ctx,
      async () => {
        // 500 coins for $7.00.
        const purchase = await buyCoins(t.ctx.db, app, viewer, 'coins-500');
        await deliver(app, t.ctx, 'payment_intent.succeeded', stripeObjects.succeeded(purchase));
        expect((await get(viewer, '/api/v1/wallet')).balance).toBe(500);
        await expectBalancedBooks();

        // Three roses (10 coins each) in the live room.
        const rose = (await get(viewer, '/api/v1/gifts')).find((g: { slug: string }) => g.slug === 'rose');
        const sent = await call(app, 'POST', `/api/v1/streams/${streamId}/gifts`, {
          headers: { ...viewer.auth, 'idempotency-key': randomUUID() },
          body: { giftId: rose.id, quantity: 3 },
        });
        expect(sent.status, sent.text).toBe(201);
        expect(sent.json.data.wallet.balance).toBe(470);
        await until(() => room.frames.some((f) => f.type === 'gift'), 'the gift frame');
        expect(room.frames.find((f) => f.type === 'gift')).toMatchObject({ streamId, quantity: 3, coins: 30, sender: { id: viewer.id } });
        expect((await get(viewer, `/api/v1/streams/${streamId}/leaderboard`)).top).toEqual([{ rank: 1, userId: viewer.id, username: viewer.username, coins: 30 }]);
        await expectBalancedBooks();

        // A $10.00 tip: $8.41 for the creator.
        const paid = await startTip(t.ctx.db, app, viewer, { streamId, amount: 1000, message: 'thanks!' });
        await deliver(app, t.ctx, 'payment_intent.succeeded', stripeObjects.succeeded(paid));
        await until(() => room.frames.some((f) => f.type === 'donation'), 'the donation frame');
        expect(room.frames.find((f) => f.type === 'donation')).toMatchObject({ streamId, amount: 1000, currency: 'USD', message: 'thanks!', name: viewer.username });
        expect(await earnings()).toEqual({ pending: 30 + 841, available: 0, reserved: 0 });
        await expectBalancedBooks();

        // The hold has passed (a run with no hold stands in for seven days later).
        await t.ctx.temporal.client.workflow.execute('earningsMaturationWorkflow', {
          taskQueue: t.ctx.config.temporal.taskQueue,
          workflowId: `earnings-maturation/journey-${randomUUID()}`,
          args: [{ holdDays: 0, currency: 'USD' }],
        });
        expect(await earnings()).toEqual({ pending: 0, available: 871, reserved: 0 });
        await expectBalancedBooks();

        // The tipper is refunded in full: the creator's $8.41 leaves available (pending is empty).
        await deliver(app, t.ctx, 'charge.refunded', stripeObjects.refunded(paid, 1000));
        expect(await earnings()).toEqual({ pending: 0, available: 30, reserved: 0 });
        await expectBalancedBooks();
        return paid;
      },
      { media: false, stripeEventHandlers: paymentHandlers(logged.logger) },
    );

    expect((await get(viewer, `/api/v1/payments/${tip.id}`)).status).toBe('refunded');
    const creatorHistory = (await get(creator, '/api/v1/creators/me/earnings')).history.map((h: { kind: string; amount: number }) => [h.kind, h.amount]);
    expect(creatorHistory).toEqual(
      expect.arrayContaining([
        ['gift', 30],
        ['tip', 841],
      ]),
    );
  });
});
