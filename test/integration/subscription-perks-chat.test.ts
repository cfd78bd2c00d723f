import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, joinRoom, sendChat, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { insertSubscription, lapseSubscription } from '../support/subscriptions.ts';
import { waitUntil } from '../support/wait.ts';

// Subscriber perks in chat (README "Subscriptions"): the badge every chat frame carries (live,
// in a joining viewer's history and in the archived history over HTTP, as it was when sent),
// its months, its removal once perks end, and subscriber-only chat with its exemptions.

const t = useTestApp();
let gateways: Gateway[] = [];
let urls: string[] = [];
const sockets: WebSocket[] = [];
let owner: TestUser;

// A short badge cache, so a lapse shows within a test; production keeps badges for 10 s.
const PERKS_TTL_MS = 200;

beforeAll(async () => {
  ({ gateways, urls } = await startGateways(t.ctx, 2, { perksTtlMs: PERKS_TTL_MS, limits: { sessionCheckMs: 3_600_000 } }));
  owner = await newUser(t.app);
  await setRole(t.ctx.db, owner.id, 'creator');
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of gateways) await g.close();
});

const connect = (g: number, user?: TestUser) => connectSocket(urls[g]!, user ? `?token=${user.accessToken}` : '?device=anon', sockets);
const chats = (socket: TestSocket, streamId: string) => socket.frames.filter((f) => f.type === 'chat' && f.streamId === streamId);

describe('subscriber badges on chat frames', () => {
  it('carries the tier and months subscribed on live frames, joined history and the archive; none for others', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const subscriber = await newUser(t.app);
    const plain = await newUser(t.app);
    // Months count every paid period on the channel, an earlier ended subscription's too.
    await insertSubscription(t.ctx.db, { subscriberId: subscriber.id, channelId: owner.id, status: 'ended', periods: 2 });
    await insertSubscription(t.ctx.db, { subscriberId: subscriber.id, channelId: owner.id, tier: 2, periods: 3 });
    // A subscription to another channel gives no badge here.
    const elsewhere = await newUser(t.app);
    await insertSubscription(t.ctx.db, { subscriberId: plain.id, channelId: elsewhere.id, tier: 3, periods: 7 });

    const subSocket = await connect(0, subscriber);
    const plainSocket = await connect(1, plain);
    const watcher = await connect(1);
    for (const s of [subSocket, plainSocket, watcher]) await joinRoom(s, streamId);

    const badged = await sendChat(subSocket, streamId, 'subscribed!');
    expect(badged).toMatchObject({ type: 'chat', userId: subscriber.id, badges: [{ type: 'subscriber', tier: 2, months: 5 }] });
    const bare = await sendChat(plainSocket, streamId, 'not subscribed');
    expect(bare).toMatchObject({ type: 'chat', userId: plain.id, badges: [] });

    // Another gateway's viewer sees the same badges.
    await until(() => chats(watcher, streamId).length === 2, 'both messages on the other gateway');
    expect(chats(watcher, streamId).map((f) => f.badges)).toEqual([[{ type: 'subscriber', tier: 2, months: 5 }], []]);

    // A viewer joining later gets them in the history.
    const late = await connect(0);
    const joined = await joinRoom(late, streamId);
    expect(joined.history.map((f: { text: string; badges: unknown }) => [f.text, f.badges])).toEqual([
      ['subscribed!', [{ type: 'subscriber', tier: 2, months: 5 }]],
      ['not subscribed', []],
    ]);

    // The archived history over HTTP shows what was shown live.
    const archived = await waitUntil(async () => {
      const res = await call(t.app, 'GET', `/api/v1/streams/${streamId}/chat`);
      return res.status === 200 && res.json.data.length === 2 ? res.json.data : undefined;
    }, 'the archive to hold both messages');
    expect(archived.map((m: { id: string; badges: unknown }) => [m.id, m.badges])).toEqual([
      [badged.id, [{ type: 'subscriber', tier: 2, months: 5 }]],
      [bare.id, []],
    ]);
  });

  it('drops the badge once perks end (within the cache time), while history keeps what was shown', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const subscriber = await newUser(t.app);
    const id = await insertSubscription(t.ctx.db, { subscriberId: subscriber.id, channelId: owner.id, status: 'past_due', periods: 1 });
    const socket = await connect(0, subscriber);
    await joinRoom(socket, streamId);
    // Past due within grace still holds perks.
    const before = await sendChat(socket, streamId, 'in grace');
    expect(before.badges).toEqual([{ type: 'subscriber', tier: 1, months: 1 }]);

    await lapseSubscription(t.ctx.db, id);
    // The gateway trusts what it read for PERKS_TTL_MS: keep sending until a message goes without a badge.
    const after = await waitUntil(async () => {
      const frame = await sendChat(socket, streamId, 'after the lapse');
      return frame.type === 'chat' && frame.badges.length === 0 ? frame : undefined;
    }, 'a message without the badge', 10_000, PERKS_TTL_MS);
    expect(after.badges).toEqual([]);

    const late = await connect(1);
    const joined = await joinRoom(late, streamId);
    expect(joined.history[0]).toMatchObject({ id: before.id, badges: [{ type: 'subscriber', tier: 1, months: 1 }] });
    expect(joined.history.at(-1)).toMatchObject({ id: after.id, badges: [] });
  });
});

describe('subscriber-only chat', () => {
  it('lets only subscribers with perks chat; the owner, channel moderators and staff are exempt', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const settings = await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'subscribers', slowModeSeconds: 0 } });
    expect(settings.status).toBe(200);
    expect(settings.json.data).toEqual({ mode: 'subscribers', slowModeSeconds: 0 });
    expect((await call(t.app, 'GET', `/api/v1/streams/${streamId}`)).json.data.chatMode).toBe('subscribers');

    const subscriber = await newUser(t.app);
    const follower = await newUser(t.app);
    const lapsed = await newUser(t.app);
    const pending = await newUser(t.app);
    const channelModerator = await newUser(t.app);
    const staff = await newUser(t.app);
    await setRole(t.ctx.db, staff.id, 'moderator');
    await insertSubscription(t.ctx.db, { subscriberId: subscriber.id, channelId: owner.id, tier: 3, periods: 1 });
    await insertSubscription(t.ctx.db, { subscriberId: lapsed.id, channelId: owner.id, status: 'lapsed', periods: 4 });
    // Checkout begun, first invoice unpaid: no perks yet.
    await insertSubscription(t.ctx.db, { subscriberId: pending.id, channelId: owner.id, status: 'incomplete' });
    expect((await call(t.app, 'POST', `/api/v1/users/${owner.id}/follow`, { headers: follower.auth })).status).toBeLessThan(300);
    expect((await call(t.app, 'PUT', `/api/v1/users/${owner.id}/channel/moderators/${channelModerator.id}`, { headers: owner.auth })).status).toBe(200);

    const socketOf = async (user: TestUser, g: number) => {
      const socket = await connect(g, user);
      await joinRoom(socket, streamId);
      return socket;
    };
    for (const [user, nonce] of [
      [follower, 'f1'],
      [lapsed, 'l1'],
      [pending, 'p1'],
    ] as const) {
      expect(await sendChat(await socketOf(user, 0), streamId, 'let me in', nonce)).toEqual({
        type: 'error',
        code: 'subscribers_only',
        message: 'Only subscribers can chat in this stream',
        nonce,
      });
    }
    expect(await sendChat(await socketOf(subscriber, 1), streamId, 'I subscribed')).toMatchObject({ type: 'chat', badges: [{ type: 'subscriber', tier: 3, months: 1 }] });
    expect(await sendChat(await socketOf(owner, 0), streamId, 'my channel')).toMatchObject({ type: 'chat', badges: [] });
    expect(await sendChat(await socketOf(channelModerator, 1), streamId, 'I moderate here')).toMatchObject({ type: 'chat', badges: [] });
    expect(await sendChat(await socketOf(staff, 0), streamId, 'platform staff')).toMatchObject({ type: 'chat', badges: [] });

    // Back to everyone: the follower may chat again once the gateways reread the settings.
    expect((await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'everyone', slowModeSeconds: 0 } })).status).toBe(200);
    const followerSocket = await socketOf(follower, 1);
    await waitUntil(async () => ((await sendChat(followerSocket, streamId, 'now?')).type === 'chat' ? true : undefined), 'the follower to be let in', 15_000, 250);
  });

  it('refuses an unknown chat mode', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const res = await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'vips', slowModeSeconds: 0 } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
  });
});
