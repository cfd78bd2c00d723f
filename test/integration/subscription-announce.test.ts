import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from 'nats';
import type WebSocket from 'ws';
import { notificationSubject } from '../../lib/notifications.ts';
import { announceSubscription } from '../../lib/subscriptions/announce.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { connectSocket, insertStream, joinRoom, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { insertSubscription } from '../support/subscriptions.ts';

// Announcing a subscription that became active (README "Subscriptions"): the creator's
// `subscription_received`, a gift recipient's `subscription_gifted`, each once per
// subscription however often or concurrently the activity runs, pushed over NATS after the
// commit, and one `subscription` frame in the channel's live room.

const t = useTestApp();
let gateways: Gateway[] = [];
let urls: string[] = [];
const sockets: WebSocket[] = [];
const natsSubs: Subscription[] = [];

beforeAll(async () => {
  ({ gateways, urls } = await startGateways(t.ctx, 1));
});
afterAll(async () => {
  for (const s of natsSubs) s.unsubscribe();
  for (const s of sockets) s.terminate();
  for (const g of gateways) await g.close();
});

const announce = (id: string) => announceSubscription({ db: t.ctx.db, nats: t.ctx.nats }, id);

async function creator(): Promise<TestUser> {
  const user = await newUser(t.app);
  await setRole(t.ctx.db, user.id, 'creator');
  return user;
}

/** Every notification pushed to a user over NATS, as it arrives. */
function pushesTo(userId: string): unknown[] {
  const seen: unknown[] = [];
  natsSubs.push(t.ctx.nats.connection.subscribe(notificationSubject(t.ctx.nats, userId), { callback: (_err, msg) => seen.push(msg.json()) }));
  return seen;
}

const notificationsOf = (user: TestUser) => call(t.app, 'GET', '/api/v1/notifications', { headers: user.auth }).then((r) => r.json.data);
const frames = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'subscription');

describe('announceSubscription', () => {
  it('tells the creator once and shows one frame in the live room, however often it runs', async () => {
    const owner = await creator();
    const fan = await newUser(t.app);
    const other = await newUser(t.app);
    const streamId = await insertStream(t.ctx, owner.id);
    const room = await connectSocket(urls[0]!, '?device=anon', sockets);
    await joinRoom(room, streamId);
    const pushed = pushesTo(owner.id);
    await t.ctx.nats.connection.flush();

    await insertSubscription(t.ctx.db, { subscriberId: fan.id, channelId: owner.id, status: 'ended', periods: 2 });
    const id = await insertSubscription(t.ctx.db, { subscriberId: fan.id, channelId: owner.id, tier: 2, periods: 1 });
    await Promise.all([announce(id), announce(id)]);
    await announce(id);
    // A second subscription is the sentinel: its frame and push come after any repeat of the first's.
    const second = await insertSubscription(t.ctx.db, { subscriberId: other.id, channelId: owner.id, tier: 1, periods: 1 });
    await announce(second);

    await until(() => frames(room).length >= 2 && pushed.length >= 2, 'both announcements');
    expect(frames(room)).toEqual([
      { type: 'subscription', streamId, subscriber: { id: fan.id, username: fan.username }, tier: 2, months: 3, gift: null, sentAt: expect.any(String) },
      { type: 'subscription', streamId, subscriber: { id: other.id, username: other.username }, tier: 1, months: 1, gift: null, sentAt: expect.any(String) },
    ]);
    expect(pushed.map((n: any) => [n.type, n.entityId])).toEqual([
      ['subscription_received', id],
      ['subscription_received', second],
    ]);

    const stored = (await notificationsOf(owner)).filter((n: { type: string }) => n.type === 'subscription_received');
    expect(stored).toHaveLength(2);
    expect(stored.find((n: { entityId: string }) => n.entityId === id)).toMatchObject({
      actorId: fan.id,
      entityType: 'subscription',
      payload: { subscriptionId: id, subscriber: { id: fan.id, username: fan.username }, tier: 2, tierName: 'Tier 2', months: 3, gift: null },
    });
  });

  it('tells a gift recipient who gave it, the creator of the gift, and names the giver in the frame', async () => {
    const owner = await creator();
    const giver = await newUser(t.app);
    const recipient = await newUser(t.app);
    await t.ctx.db.insertInto('subscription_tier_names').values({ channel_id: owner.id, tier: 1, name: 'Fan club' }).execute();
    const streamId = await insertStream(t.ctx, owner.id);
    const room = await connectSocket(urls[0]!, '?device=anon', sockets);
    await joinRoom(room, streamId);

    const id = await insertSubscription(t.ctx.db, { subscriberId: recipient.id, channelId: owner.id, giverId: giver.id, periods: 1 });
    await announce(id);
    await announce(id);

    await until(() => frames(room).length === 1, 'the frame');
    expect(frames(room)[0]).toMatchObject({ subscriber: { id: recipient.id }, tier: 1, months: 1, gift: { giver: { id: giver.id, username: giver.username } } });
    const gifted = (await notificationsOf(recipient)).filter((n: { type: string }) => n.type === 'subscription_gifted');
    expect(gifted).toEqual([
      expect.objectContaining({
        actorId: giver.id,
        entityId: id,
        payload: { subscriptionId: id, channel: { id: owner.id, username: owner.username, displayName: expect.any(String) }, tier: 1, tierName: 'Fan club', giver: { id: giver.id, username: giver.username } },
      }),
    ]);
    const received = (await notificationsOf(owner)).filter((n: { type: string }) => n.type === 'subscription_received');
    expect(received).toHaveLength(1);
    expect(received[0].payload.gift).toMatchObject({ giver: { id: giver.id, username: giver.username } });
  });

  it('announces nothing for a subscription without perks, and respects a creator who turned it off', async () => {
    const owner = await creator();
    const fan = await newUser(t.app);
    const lapsed = await insertSubscription(t.ctx.db, { subscriberId: fan.id, channelId: owner.id, status: 'lapsed', periods: 1 });
    await announce(lapsed);
    const pending = await insertSubscription(t.ctx.db, { subscriberId: (await newUser(t.app)).id, channelId: owner.id, status: 'incomplete' });
    await announce(pending);
    expect(await notificationsOf(owner)).toEqual([]);

    const off = await call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: owner.auth, body: { subscription_received: { inApp: false } } });
    expect(off.status).toBe(200);
    const active = await insertSubscription(t.ctx.db, { subscriberId: (await newUser(t.app)).id, channelId: owner.id });
    await announce(active);
    expect(await notificationsOf(owner)).toEqual([]);
  });
});
