import { randomUUID } from 'node:crypto';
import { headers } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { findArchivedMessage, pageArchivedChat } from '../../lib/chat-archive.ts';
import { chatLiveSubject, publishChatEvent } from '../../lib/chat.ts';
import { jetStreamResources, type Nats } from '../../lib/nats.ts';
import { openChatRoom } from '../../realtime/chat-room.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, setStatus, type TestUser } from '../support/fixtures.ts';
import { connectSocket, drained, insertStream, joinRoom, sendChat, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { call } from '../support/http.ts';

// Live chat through two gateways that share nothing but NATS (JetStream) and the databases:
// delivery across gateways, every sending rule, history and offset recovery, deletion, and
// the Mongo archive matching exactly what viewers received.

const t = useTestApp();
let gateways: Gateway[] = [];
let urls: string[] = [];
const sockets: WebSocket[] = [];
let owner: TestUser;
let viewer: TestUser;

beforeAll(async () => {
  // Sessions are re-checked only hourly: the refusals of banned and suspended senders below are
  // the chat rules' doing, not a periodic sign-out racing them (realtime-sessions tests that).
  ({ gateways, urls } = await startGateways(t.ctx, 2, { limits: { sessionCheckMs: 3_600_000 } }));
  owner = await newUser(t.app);
  viewer = await newUser(t.app);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of gateways) await g.close();
});

const connect = (g: number, user?: TestUser) => connectSocket(urls[g]!, user ? `?token=${user.accessToken}` : '?device=anon', sockets);

const chats = (socket: TestSocket, streamId: string) => socket.frames.filter((f) => f.type === 'chat' && f.streamId === streamId);
const errors = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'error');

describe('realtime chat', () => {
  it('delivers a message to viewers on every gateway, with the nonce only to the sender', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const sender = await connect(0, viewer);
    const remote = await connect(1);
    const local = await connect(0);
    for (const s of [sender, remote, local]) expect(await joinRoom(s, streamId)).toEqual({ type: 'joined', streamId, history: [] });

    const echo = await sendChat(sender, streamId, '  hello from gateway 0  ', 'nonce-1');
    expect(echo).toMatchObject({ type: 'chat', streamId, userId: viewer.id, username: viewer.username, text: 'hello from gateway 0', nonce: 'nonce-1' });
    expect(echo.id).toMatch(/^\d+$/);
    expect(Date.parse(echo.sentAt)).toBeGreaterThan(Date.now() - 60_000);
    await until(() => chats(remote, streamId).length === 1 && chats(local, streamId).length === 1, 'delivery to the others');
    const { nonce: _nonce, ...seenByOthers } = echo;
    expect(chats(remote, streamId)).toEqual([seenByOthers]);
    expect(chats(local, streamId)).toEqual([seenByOthers]);
  });

  it('stores a retried message once and answers the retry with the original', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const sender = await connect(0, viewer);
    const other = await connect(1);
    await joinRoom(sender, streamId);
    await joinRoom(other, streamId);
    sender.send({ type: 'chat', streamId, text: 'only once', nonce: 'retry-me' });
    sender.send({ type: 'chat', streamId, text: 'only once', nonce: 'retry-me' });
    await until(() => sender.frames.filter((f) => f.nonce === 'retry-me').length === 2, 'both answers');
    const [first, second] = sender.frames.filter((f) => f.nonce === 'retry-me');
    expect(second).toEqual(first);
    // A later message is the sentinel: a second copy of the first would have come before it.
    const sentinel = await sendChat(sender, streamId, 'sentinel');
    await until(() => chats(other, streamId).some((m) => m.id === sentinel.id), 'the sentinel');
    expect(chats(other, streamId).map((m) => m.id)).toEqual([first.id, sentinel.id]);

    // The same nonce in another stream is another message.
    const elsewhere = await insertStream(t.ctx, owner.id);
    await joinRoom(sender, elsewhere);
    sender.send({ type: 'chat', streamId: elsewhere, text: 'only once', nonce: 'retry-me' });
    await until(() => chats(sender, elsewhere).length === 1, 'the message in the other stream');
    expect(chats(sender, elsewhere)[0].id).not.toBe(first.id);
  });

  it('refuses, with a reason code and the nonce, every message the rules forbid', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const anon = await connect(0);
    await joinRoom(anon, streamId);
    expect(await sendChat(anon, streamId, 'hi', 'a1')).toMatchObject({ type: 'error', code: 'sign_in_required', nonce: 'a1' });

    const user = await newUser(t.app);
    const socket = await connect(1, user);
    expect(await sendChat(socket, streamId, 'not in the room', 'j1')).toMatchObject({ code: 'not_joined', nonce: 'j1' });
    await joinRoom(socket, streamId);
    expect(await sendChat(socket, streamId, '   ', 'e1')).toMatchObject({ code: 'empty_message', nonce: 'e1' });
    expect(await sendChat(socket, streamId, 'x'.repeat(501), 'l1')).toMatchObject({ code: 'message_too_long', nonce: 'l1' });
    // 500 characters as people count them: emoji are one each.
    expect(await sendChat(socket, streamId, '😀'.repeat(500), 'l2')).toMatchObject({ type: 'chat', nonce: 'l2' });

    const banned = await newUser(t.app);
    const suspended = await newUser(t.app);
    const bannedSocket = await connect(0, banned);
    const suspendedSocket = await connect(0, suspended);
    await joinRoom(bannedSocket, streamId);
    await joinRoom(suspendedSocket, streamId);
    await setStatus(t.ctx.db, banned.id, 'banned');
    await setStatus(t.ctx.db, suspended.id, 'suspended', new Date(Date.now() + 3_600_000));
    expect(await sendChat(bannedSocket, streamId, 'hi', 'b1')).toMatchObject({ code: 'account_banned', nonce: 'b1' });
    expect(await sendChat(suspendedSocket, streamId, 'hi', 's1')).toMatchObject({ code: 'account_suspended', nonce: 's1' });

    const ended = await insertStream(t.ctx, owner.id, 'ended');
    await joinRoom(socket, ended);
    expect(await sendChat(socket, ended, 'too late', 'c1')).toMatchObject({ code: 'chat_closed', nonce: 'c1' });

    // Operators see the refusals by reason on the gateway that made them.
    const metrics = await (await fetch(`http://${urls[0]}/metrics`, { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } })).text();
    expect(metrics).toMatch(/streamhub_realtime_chat_messages_total\{outcome="account_banned",service="realtime"\} 1\n/);
    expect(metrics).toMatch(/streamhub_realtime_sockets\{service="realtime"\} [1-9]/);
  });

  it('enforces followers-only and slow mode for viewers but not for the owner', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const settings = await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'followers', slowModeSeconds: 60 } });
    expect(settings.status).toBe(200);
    expect(settings.json.data).toEqual({ mode: 'followers', slowModeSeconds: 60 });
    expect((await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: viewer.auth, body: { mode: 'everyone', slowModeSeconds: 0 } })).status).toBe(403);
    expect((await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'everyone', slowModeSeconds: 601 } })).status).toBe(400);

    const stranger = await newUser(t.app);
    const follower = await newUser(t.app);
    expect((await call(t.app, 'POST', `/api/v1/users/${owner.id}/follow`, { headers: follower.auth })).status).toBe(200);
    const [strangerSocket, followerSocket, ownerSocket] = [await connect(0, stranger), await connect(1, follower), await connect(1, owner)];
    for (const s of [strangerSocket, followerSocket, ownerSocket]) await joinRoom(s, streamId);

    expect(await sendChat(strangerSocket, streamId, 'let me in', 'f1')).toMatchObject({ code: 'followers_only', nonce: 'f1' });
    const first = await sendChat(followerSocket, streamId, 'first', 'f2');
    expect(first).toMatchObject({ type: 'chat', nonce: 'f2' });
    // A retry of a stored message is answered with it, not refused by slow mode.
    followerSocket.send({ type: 'chat', streamId, text: 'first', nonce: 'f2' });
    await until(() => followerSocket.frames.filter((f) => f.nonce === 'f2').length === 2, 'the answer to the retry');
    expect(followerSocket.frames.filter((f) => f.nonce === 'f2')[1]).toEqual(first);
    const slow = await sendChat(followerSocket, streamId, 'second', 'f3');
    expect(slow).toMatchObject({ code: 'slow_mode', nonce: 'f3' });
    expect(slow.retryAfterSeconds).toBeGreaterThan(50);
    expect(await sendChat(ownerSocket, streamId, 'owner one', 'o1')).toMatchObject({ type: 'chat' });
    expect(await sendChat(ownerSocket, streamId, 'owner two', 'o2')).toMatchObject({ type: 'chat' });
  });

  // README: "20 messages per 30 s; the owner, moderators and admins 100 and no slow mode or followers-only".
  it('limits viewers to exactly 20 messages per 30 s', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const answers = await inOneWindow(t.ctx.db, 30, async () => {
      const chatty = await connect(0, await newUser(t.app));
      await joinRoom(chatty, streamId);
      const sent = [];
      for (let i = 0; i < 21; i++) sent.push(await sendChat(chatty, streamId, `m${i}`));
      return sent;
    });
    expect(answers.slice(0, 20).map((f) => f.type)).toEqual(Array(20).fill('chat'));
    expect(answers[20]).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(answers[20].retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(answers[20].retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  for (const role of ['moderator', 'admin'] as const) {
    it(`lets a${role === 'admin' ? 'n' : ''} ${role} send exactly 100 messages per 30 s, past slow mode and followers-only`, async () => {
      const streamId = await insertStream(t.ctx, owner.id);
      // Both rules on: the sender follows nobody, and would wait a minute between messages.
      expect((await call(t.app, 'PUT', `/api/v1/streams/${streamId}/chat/settings`, { headers: owner.auth, body: { mode: 'followers', slowModeSeconds: 60 } })).status).toBe(200);
      const answers = await inOneWindow(t.ctx.db, 30, async () => {
        const user = await newUser(t.app);
        await setRole(t.ctx.db, user.id, role);
        // Two sockets, one on each gateway: 101 frames from one would spend its frame budget
        // (REALTIME_FRAMES_PER_10_SECONDS, 60), and the count is per user wherever they send.
        const pair = [await connect(0, user), await connect(1, user)];
        for (const s of pair) await joinRoom(s, streamId);
        const sent = [];
        for (let i = 0; i < 101; i++) sent.push(await sendChat(pair[i % 2]!, streamId, `${role} ${i}`));
        return sent;
      });
      expect(answers.slice(0, 100).filter((f) => f.type !== 'chat')).toEqual([]);
      expect(answers[100]).toMatchObject({ type: 'error', code: 'rate_limited' });
    });
  }

  it('sends recent history on join and recovers what a reconnecting viewer missed', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const speaker = await connect(0, owner);
    await joinRoom(speaker, streamId);
    for (let i = 1; i <= 3; i++) await sendChat(speaker, streamId, `before ${i}`);

    const late = await connect(1);
    const history = (await joinRoom(late, streamId)).history;
    expect(history.map((m: any) => m.text)).toEqual(['before 1', 'before 2', 'before 3']);
    expect(history.every((m: any) => m.nonce === undefined)).toBe(true);
    // The author's own messages come back with their nonces, to settle what it had pending.
    const author = await connect(1, owner);
    expect((await joinRoom(author, streamId)).history.map((m: any) => typeof m.nonce)).toEqual(['string', 'string', 'string']);
    const lastSeen = history.at(-1).id;

    late.socket.close();
    for (let i = 1; i <= 4; i++) await sendChat(speaker, streamId, `missed ${i}`);
    const back = await connect(1);
    const resumed = await joinRoom(back, streamId, lastSeen);
    expect(resumed.resumed).toBe(true);
    expect(resumed.history.map((m: any) => m.text)).toEqual(['missed 1', 'missed 2', 'missed 3', 'missed 4']);
    const after = await sendChat(speaker, streamId, 'after');
    await until(() => chats(back, streamId).some((m) => m.text === 'after'), 'live after recovery');

    // README: "`resumed: false` and the recent history when more than 500 events were missed".
    const floodFrom = Number(after.id);
    const flood = (i: number) =>
      publishChatEvent(t.ctx.nats, { kind: 'message', streamId, userId: owner.id, username: owner.username, text: `flood ${i}`, sentAt: new Date().toISOString() });
    for (let i = 1; i <= 500; i++) await flood(i);
    const allOf500 = await joinRoom(await connect(0), streamId, floodFrom);
    expect(allOf500.resumed).toBe(true);
    expect(allOf500.history.map((m: any) => m.text)).toEqual(Array.from({ length: 500 }, (_, i) => `flood ${i + 1}`));
    await flood(501);
    const truncated = await joinRoom(await connect(0), streamId, floodFrom);
    expect(truncated.resumed).toBe(false);
    // README: `joined` carries "the last 50 chat messages".
    expect(truncated.history.map((m: any) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `flood ${452 + i}`));
  });

  it('sends deletions of messages seen before a reconnect after the resumed `joined`, and leaves deleted missed ones out', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const speaker = await connect(0, owner);
    await joinRoom(speaker, streamId);
    const seen = [];
    for (let i = 1; i <= 3; i++) seen.push(await sendChat(speaker, streamId, `seen ${i}`));
    const viewerSocket = await connect(1);
    await joinRoom(viewerSocket, streamId);
    const lastSeen = seen.at(-1).id;
    viewerSocket.socket.close();

    // While the viewer is away: two new messages, then one it saw and one it missed are deleted.
    const missed = [await sendChat(speaker, streamId, 'missed 1'), await sendChat(speaker, streamId, 'missed 2')];
    for (const id of [seen[1].id, missed[0].id]) {
      expect((await call(t.app, 'DELETE', `/api/v1/streams/${streamId}/chat/${id}`, { headers: owner.auth })).status).toBe(200);
    }
    await until(() => speaker.frames.filter((f) => f.type === 'chat_deleted').length === 2, 'both deletions stored and delivered');

    for (const gateway of [0, 1]) {
      // Gateway 0 answers from its room's window, gateway 1 (no viewers left there) reads JetStream.
      const back = await connect(gateway);
      const before = back.frames.length;
      const resumed = await joinRoom(back, streamId, lastSeen);
      expect(resumed).toMatchObject({ resumed: true });
      expect(resumed.history.map((m: any) => m.text)).toEqual(['missed 2']);
      await drained(back);
      const after = back.frames.slice(before).filter((f) => f.type !== 'pong' && f.type !== 'viewers');
      expect(after).toEqual([resumed, { type: 'chat_deleted', streamId, id: seen[1].id }]);
    }
  });

  // README: nonces "within 15 minutes"; "they have left JetStream (kept 24 h)"; unacknowledged archive batches "come back after 30 s".
  it('keeps chat, nonces and archive deliveries as long as the README says, as provisioned', async () => {
    const jsm = await t.ctx.nats.connection.jetstreamManager();
    const { chatStream, chatNoncesBucket, chatArchiveConsumer } = jetStreamResources(t.ctx.nats.subject(''));
    const seconds = (ns: number | undefined) => (ns ?? 0) / 1_000_000_000;
    expect(seconds((await jsm.streams.info(chatStream.name)).config.max_age)).toBe(24 * 3600);
    expect(seconds((await jsm.streams.info(`KV_${chatNoncesBucket.name}`)).config.max_age)).toBe(15 * 60);
    expect(seconds((await jsm.consumers.info(chatStream.name, chatArchiveConsumer)).config.ack_wait)).toBe(30);
  });

  it('keeps a connection to a bounded number of rooms', async () => {
    const socket = await connect(0);
    const streams = [];
    // README: "A connection may be in 10 streams at once (`too_many_rooms`…)".
    for (let i = 0; i < 11; i++) streams.push(await insertStream(t.ctx, owner.id));
    for (const id of streams.slice(0, 10)) await joinRoom(socket, id);
    socket.send({ type: 'join', streamId: streams.at(-1) });
    await until(() => errors(socket).some((f) => f.code === 'too_many_rooms'), 'the refusal');
    socket.send({ type: 'leave', streamId: streams[0] });
    await joinRoom(socket, streams.at(-1)!);
  });

  it('fills a gap in live delivery from JetStream, in order', async () => {
    // A chat log of its own whose republish is played by the test, so one can go missing.
    const prefix = `${t.ctx.config.nats.subjectPrefix}gap.`;
    const nats: Nats = { connection: t.ctx.nats.connection, subject: (name) => `${prefix}${name}` };
    const { chatStream } = jetStreamResources(prefix);
    const jsm = await nats.connection.jetstreamManager();
    await jsm.streams.add({ name: chatStream.name, subjects: chatStream.subjects });
    try {
      const streamId = randomUUID();
      const delivered: string[] = [];
      const room = openChatRoom({ nats, logger: t.ctx.logger }, streamId, (e) => e.kind === 'message' && delivered.push(e.text));
      let previous = 0;
      const store = async (text: string, republish: boolean) => {
        const { seq } = await publishChatEvent(nats, { kind: 'message', streamId, userId: owner.id, username: owner.username, text, sentAt: new Date().toISOString() });
        const h = headers();
        h.set('Nats-Sequence', String(seq));
        h.set('Nats-Last-Sequence', String(previous));
        if (republish) nats.connection.publish(chatLiveSubject(nats, streamId), JSON.stringify({ kind: 'message', streamId, userId: owner.id, username: owner.username, text, sentAt: '' }), { headers: h });
        previous = seq;
      };
      await nats.connection.flush();
      await store('one', true);
      await store('two', false);
      await until(() => delivered.length === 1, 'the first message');
      await store('three', true);
      await until(() => delivered.length === 3, 'the dropped message and the next');
      expect(delivered).toEqual(['one', 'two', 'three']);
      room.close();
    } finally {
      await jsm.streams.delete(chatStream.name);
    }
  });

  it('deletes a message everywhere and in the archive; the archive holds exactly what was delivered', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const speaker = await connect(0, viewer);
    const watcher = await connect(1);
    await joinRoom(speaker, streamId);
    await joinRoom(watcher, streamId);
    const sent: any[] = [];
    for (let i = 0; i < 6; i++) sent.push(await sendChat(speaker, streamId, `archived ${i}`, `arch-${i}`));
    await sendChat(speaker, streamId, 'archived 5', 'arch-5'); // a retry: stored and archived once
    await until(() => chats(watcher, streamId).length === 6, 'all six delivered');
    const doomed = sent[2];

    expect((await call(t.app, 'DELETE', `/api/v1/streams/${streamId}/chat/${doomed.id}`, { headers: viewer.auth })).status).toBe(403);
    expect((await call(t.app, 'DELETE', `/api/v1/streams/${streamId}/chat/999999999`, { headers: owner.auth })).status).toBe(404);
    const deleted = await call(t.app, 'DELETE', `/api/v1/streams/${streamId}/chat/${doomed.id}`, { headers: owner.auth });
    expect(deleted.status).toBe(200);
    for (const s of [speaker, watcher]) await until(() => s.frames.some((f) => f.type === 'chat_deleted' && f.id === doomed.id), 'chat_deleted everywhere');
    expect(watcher.frames.find((f) => f.type === 'chat_deleted')).toEqual({ type: 'chat_deleted', streamId, id: doomed.id });

    const newcomer = await connect(0);
    expect((await joinRoom(newcomer, streamId)).history.map((m: any) => m.text)).toEqual(['archived 0', 'archived 1', 'archived 3', 'archived 4', 'archived 5']);

    // Both gateways' archivers pull batches from the one consumer, in any order; wait for all.
    const delivered = chats(watcher, streamId)
      .filter((m) => m.id !== doomed.id)
      .map(({ type: _type, ...message }) => message);
    const archived = async () =>
      Boolean((await findArchivedMessage(t.ctx.mongo, streamId, Number(doomed.id)))?.deletedAt) &&
      (await pageArchivedChat(t.ctx.mongo, streamId, 100))?.messages.length === delivered.length;
    await until(archived, 'the whole room archived', 15_000);
    const page1 = await call(t.app, 'GET', `/api/v1/streams/${streamId}/chat?limit=3`);
    expect(page1.status).toBe(200);
    const page2 = await call(t.app, 'GET', `/api/v1/streams/${streamId}/chat?limit=3&before=${page1.json.meta.nextBefore}`);
    expect(page2.status, page2.text).toBe(200);
    expect(page2.json.meta.nextBefore).toBeNull();
    expect([...page2.json.data, ...page1.json.data]).toEqual(delivered);
    expect((await call(t.app, 'GET', `/api/v1/streams/${streamId}/chat?before=0${doomed.id}`)).status).toBe(400);
    expect((await call(t.app, 'DELETE', `/api/v1/streams/${streamId}/chat/0${doomed.id}`, { headers: owner.auth })).status).toBe(400);
  });
});
