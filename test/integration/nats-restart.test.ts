import { once } from 'node:events';
import { Events } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { sleep } from '../../lib/async.ts';
import { chatSubject, parseChatEvent } from '../../lib/chat.ts';
import { connectNats, ensureJetStream, jetStreamResources, type Nats } from '../../lib/nats.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole } from '../support/fixtures.ts';
import { connectSocket, insertStream, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { startLink, startPrivateNats, type Link, type PrivateServer } from '../support/private-services.ts';

// NATS (JetStream on file storage) killed with SIGKILL and restarted while six people chat,
// watched by viewers on two gateways. Gateway 0 reaches NATS through a link the test cuts at
// the crash and mends only after the others are back and done chatting: the gateway that comes
// back last, with nothing new said after it returns. The server is this file's own, so
// killing it disturbs no other file; Postgres and Mongo are the file's usual ones.

const t = useTestApp();
let nats: PrivateServer & { url: string };
let link: Link;
/** One connection per gateway, as separate processes would have, and one for the test's own reads. */
const connections: Nats[] = [];
const connectionEvents: string[][] = [[], []];
const gateways: Gateway[] = [];
const urls: string[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  nats = await startPrivateNats();
  link = await startLink({ host: '127.0.0.1', port: Number(new URL(nats.url).port) });
  const prefix = t.ctx.config.nats.subjectPrefix;
  const through = [`nats://127.0.0.1:${link.port}`, nats.url, nats.url];
  for (let i = 0; i < 3; i++) connections.push(await connectNats({ url: through[i]!, subjectPrefix: prefix, name: `test-nats-restart-${i}` }));
  await ensureJetStream(connections[2]!, prefix);
  for (let i = 0; i < 2; i++) {
    void (async () => {
      for await (const status of connections[i]!.connection.status()) connectionEvents[i]!.push(status.type);
    })();
    const started = await startGateways({ ...t.ctx, nats: connections[i]! }, 1, { viewerCountIntervalMs: 300 });
    gateways.push(...started.gateways);
    urls.push(...started.urls);
  }
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  // Connections first: a gateway closing against a dead server must not wait on it.
  for (const c of connections) await c.connection.close().catch(() => {});
  for (const gateway of gateways) await gateway.close();
  await link?.close();
  await nats?.remove();
});

const SENDERS = 6;
const MESSAGES_EACH = 30;

interface Sent {
  id: string;
  nonce: string;
  text: string;
}

const chatIds = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'chat').map((f) => f.id as string);
const viewerCount = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'viewers').at(-1)?.count;

async function joined(socket: TestSocket, streamId: string, since?: string) {
  const before = socket.frames.length;
  socket.send({ type: 'join', streamId, ...(since === undefined ? {} : { since: Number(since) }) });
  await until(() => socket.frames.slice(before).some((f) => f.type === 'joined'), 'joined');
  return socket.frames.slice(before).find((f) => f.type === 'joined');
}

/**
 * What a client does: sends a message, and sends it again with the same nonce after an
 * `unavailable` answer or after hearing nothing for a while, until its own echo (the nonce)
 * comes back. Anything else is a failure of the test.
 */
async function sendUntilAcknowledged(socket: TestSocket, streamId: string, text: string, nonce: string): Promise<Sent> {
  for (;;) {
    const from = socket.frames.length;
    socket.send({ type: 'chat', streamId, text, nonce });
    const answer = () => socket.frames.slice(from).find((f) => f.nonce === nonce);
    const deadline = Date.now() + 8000;
    while (!answer() && Date.now() < deadline) await sleep(20);
    const frame = answer();
    if (frame?.type === 'chat') return { id: frame.id, nonce, text: frame.text };
    if (frame && frame.code !== 'unavailable') throw new Error(`unexpected answer to ${nonce}: ${JSON.stringify(frame)}`);
    await sleep(250);
  }
}

/** Every message the room's chat log holds, by id: what JetStream acknowledged. */
async function storedMessages(streamId: string): Promise<Sent[]> {
  const reader = connections[2]!;
  const jsm = await reader.connection.jetstreamManager();
  const { chatStream } = jetStreamResources(reader.subject(''));
  const { first_seq, last_seq } = (await jsm.streams.info(chatStream.name)).state;
  const stored: Sent[] = [];
  for (let seq = first_seq; seq <= last_seq; seq++) {
    const msg = await jsm.streams.getMessage(chatStream.name, { seq });
    const event = msg.subject === chatSubject(reader, streamId) ? parseChatEvent(msg.data, seq) : undefined;
    if (event?.kind === 'message') stored.push({ id: String(seq), nonce: event.nonce!, text: event.text });
  }
  return stored;
}

/** The whole archive of a room through the API, oldest first. */
async function archivedChat(streamId: string): Promise<{ id: string; text: string }[]> {
  const all: { id: string; text: string }[] = [];
  let before: string | null = null;
  do {
    const res = await call(t.app, 'GET', `/api/v1/streams/${streamId}/chat?limit=100${before ? `&before=${before}` : ''}`);
    all.unshift(...res.json.data.map((m: { id: string; text: string }) => ({ id: m.id, text: m.text })));
    before = res.json.meta.nextBefore;
  } while (before);
  return all;
}

describe('NATS restart', { timeout: 180_000 }, () => {
  it('loses no acknowledged chat message, keeps sockets serving, resumes with since and recovers viewer counts', async () => {
    const owner = await newUser(t.app);
    const streamId = await insertStream(t.ctx, owner.id);
    // Moderators may send 100 messages per 30 s, room enough for the retries during the outage.
    const senders = await Promise.all(Array.from({ length: SENDERS }, () => newUser(t.app)));
    for (const sender of senders) await setRole(t.ctx.db, sender.id, 'moderator');
    const senderSockets = await Promise.all(senders.map((s) => connectSocket(urls[1]!, `?token=${s.accessToken}`, sockets)));
    // Signed-in viewers: anonymous ones are counted once per address, and every socket here comes from 127.0.0.1.
    const [viewerA, viewerB, viewerLeaving, viewerResuming] = await Promise.all(Array.from({ length: 4 }, () => newUser(t.app)));
    const stayA = await connectSocket(urls[0]!, `?token=${viewerA!.accessToken}`, sockets);
    const stayB = await connectSocket(urls[1]!, `?token=${viewerB!.accessToken}`, sockets);
    const leaver = await connectSocket(urls[1]!, `?token=${viewerLeaving!.accessToken}`, sockets);
    const resumer = await connectSocket(urls[0]!, `?token=${viewerResuming!.accessToken}`, sockets);
    for (const socket of [...senderSockets, stayA, stayB, leaver, resumer]) await joined(socket, streamId);
    const staying = [...senderSockets, stayA, stayB];
    await until(() => [...staying, leaver, resumer].every((s) => viewerCount(s) === SENDERS + 4), 'everyone counting 10 viewers');

    const acknowledged: Sent[] = [];
    const sending = senderSockets.map(async (socket, i) => {
      for (let m = 0; m < MESSAGES_EACH; m++) acknowledged.push(await sendUntilAcknowledged(socket, streamId, `sender ${i}, message ${m}`, `s${i}-m${m}`));
    });
    await until(() => acknowledged.length >= 40, 'chat flowing before the crash', 30_000);

    link.cut();
    await nats.kill();
    await until(() => connectionEvents.every((events) => events.includes(Events.Disconnect)), 'both gateways noticing the crash');
    // While NATS is down one viewer leaves for good and another loses its connection.
    leaver.socket.close();
    resumer.socket.close();
    await Promise.all([once(leaver.socket, 'close'), once(resumer.socket, 'close')]);
    const seenBeforeDrop = chatIds(resumer);
    // The gateways keep serving the sockets they have.
    for (const socket of [stayA, stayB]) socket.send({ type: 'ping' });
    await until(() => [stayA, stayB].every((s) => s.frames.some((f) => f.type === 'pong')), 'pongs during the outage');

    await nats.restart();
    await Promise.all(sending);
    // The resumed viewer asks gateway 0 while it is still cut off: it cannot know what was said, and says so.
    const back = await connectSocket(urls[0]!, `?token=${viewerResuming!.accessToken}`, sockets);
    back.send({ type: 'join', streamId, since: Number(seenBeforeDrop.at(-1)) });
    await until(() => back.frames.some((f) => f.type === 'error' || f.type === 'joined'), 'an answer to the resume', 30_000);
    expect(back.frames).toEqual([{ type: 'error', code: 'unavailable', message: 'Could not join; try again' }]);

    link.mend();
    await until(() => connectionEvents[0]!.includes(Events.Reconnect), 'gateway 0 reconnecting', 30_000);
    const resumed = await joined(back, streamId, seenBeforeDrop.at(-1));

    // Every message a sender saw acknowledged is in the log, each once, and nothing else is.
    const stored = await storedMessages(streamId);
    expect(stored).toHaveLength(SENDERS * MESSAGES_EACH);
    expect([...acknowledged].sort((a, b) => Number(a.id) - Number(b.id))).toEqual(stored);
    const ids = stored.map((m) => m.id);

    // Sockets that stayed connected got exactly the log, in order, with nothing said after
    // their gateway came back; the resumed one exactly what it missed.
    await until(() => [stayA, stayB].every((s) => chatIds(s).length >= ids.length), 'the whole log reaching connected viewers', 30_000);
    expect(chatIds(stayA)).toEqual(ids);
    expect(chatIds(stayB)).toEqual(ids);
    expect(resumed.resumed).toBe(true);
    const resumedIds = () => [...seenBeforeDrop, ...resumed.history.map((m: { id: string }) => m.id), ...chatIds(back)];
    expect(resumedIds()).toEqual(ids);
    expect(staying.map((s) => s.socket.readyState)).toEqual(staying.map((s) => s.socket.OPEN));

    // Viewer counts come back to the truth: the leaver is gone, the resumed viewer is back.
    await until(() => [...staying, back].every((s) => viewerCount(s) === SENDERS + 3), 'everyone counting 9 viewers after the restart', 30_000);
    const row = await t.ctx.db.selectFrom('streams').select(['current_viewers', 'peak_viewers', 'unique_viewers']).where('id', '=', streamId).executeTakeFirstOrThrow();
    expect(row).toEqual({ current_viewers: SENDERS + 3, peak_viewers: SENDERS + 4, unique_viewers: SENDERS + 4 });

    // And the archive holds every one of them.
    const expectedArchive = stored.map(({ id, text }) => ({ id, text }));
    await until(async () => (await archivedChat(streamId)).length >= stored.length, 'the archive catching up', 90_000);
    expect(await archivedChat(streamId)).toEqual(expectedArchive);
  });
});
