import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { chatSubject } from '../../lib/chat.ts';
import { jetStreamResources } from '../../lib/nats.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, joinRoom, sendChat, until, type TestSocket } from '../support/gateway.ts';
import { spawnGatewayProcess, type ServiceProcess } from '../support/processes.ts';
import { inOneWindow } from '../support/rate-windows.ts';

// Two gateways as production runs them: `realtime/server.ts` processes that share nothing but
// NATS and the databases. What one process remembers in memory, the other cannot know, so
// these hold only if the state is really shared.

const t = useTestApp();
const gateways: ServiceProcess[] = [];
const sockets: WebSocket[] = [];
let owner: TestUser;

beforeAll(async () => {
  gateways.push(await spawnGatewayProcess(t.ctx), await spawnGatewayProcess(t.ctx));
  owner = await newUser(t.app);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  await Promise.all(gateways.map((g) => g.stop()));
});

const connect = (g: number, user?: TestUser) => connectSocket(gateways[g]!.host, user ? `?token=${user.accessToken}` : '', sockets);
const chats = (socket: TestSocket, streamId: string) => socket.frames.filter((f) => f.type === 'chat' && f.streamId === streamId);

/** Every chat message of a room in JetStream, the log viewers and the archive are served from. */
async function storedTexts(streamId: string): Promise<string[]> {
  const jsm = await t.ctx.nats.connection.jetstreamManager();
  const { chatStream } = jetStreamResources(t.ctx.nats.subject(''));
  const texts: string[] = [];
  const { first_seq, last_seq } = (await jsm.streams.info(chatStream.name)).state;
  for (let seq = first_seq; seq <= last_seq && seq > 0; seq++) {
    const msg = await jsm.streams.getMessage(chatStream.name, { seq }).catch(() => undefined);
    if (msg?.subject === chatSubject(t.ctx.nats, streamId)) texts.push(msg.json<{ text: string }>().text);
  }
  return texts;
}

describe('chat across gateway processes', () => {
  it('stores a message retried through another gateway process once, and answers the retry with the original', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const sender = await newUser(t.app);
    const watchers = [await connect(0), await connect(1)];
    for (const w of watchers) await joinRoom(w, streamId);

    // Sent through gateway 0; the client missed the echo, reconnected to gateway 1 and sends again.
    const first = await connect(0, sender);
    await joinRoom(first, streamId);
    const original = await sendChat(first, streamId, 'once, through two gateways', 'nonce-across');
    expect(original).toMatchObject({ type: 'chat', text: 'once, through two gateways', nonce: 'nonce-across' });
    first.socket.terminate();
    const second = await connect(1, sender);
    await joinRoom(second, streamId);
    expect(await sendChat(second, streamId, 'once, through two gateways', 'nonce-across')).toEqual(original);

    // Both at once, one through each process: JetStream's own deduplication decides.
    const third = await connect(0, sender);
    await joinRoom(third, streamId);
    const [a, b] = await Promise.all([sendChat(third, streamId, 'raced', 'nonce-raced'), sendChat(second, streamId, 'raced', 'nonce-raced')]);
    expect(a).toMatchObject({ type: 'chat', text: 'raced' });
    expect(b).toEqual(a);

    // A later message is the sentinel: once watchers on both processes have it, any copy of the
    // earlier ones would have arrived before it.
    await sendChat(second, streamId, 'sentinel');
    for (const w of watchers) await until(() => chats(w, streamId).some((m) => m.text === 'sentinel'), 'the sentinel on both gateways');
    for (const w of watchers) expect(chats(w, streamId).map((m) => m.id)).toEqual([original.id, a.id, expect.any(String)]);
    expect(await storedTexts(streamId)).toEqual(['once, through two gateways', 'raced', 'sentinel']);
  });

  it('counts a viewer’s 20 messages per 30 s across gateway processes: the 21st is refused wherever it is sent', async () => {
    const streamId = await insertStream(t.ctx, owner.id);
    const answers = await inOneWindow(t.ctx.db, 30, async () => {
      const viewer = await newUser(t.app);
      const sockets = [await connect(0, viewer), await connect(1, viewer)];
      for (const s of sockets) await joinRoom(s, streamId);
      const sent = [];
      // Alternating processes: each sees only 10 of the first 20.
      for (let i = 0; i < 21; i++) sent.push(await sendChat(sockets[i % 2]!, streamId, `m${i}`));
      return sent;
    });
    expect(answers.slice(0, 20).map((f) => f.type)).toEqual(Array(20).fill('chat'));
    expect(answers[20]).toMatchObject({ type: 'error', code: 'rate_limited', retryAfterSeconds: expect.any(Number) });
    expect(answers[20].retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(answers[20].retryAfterSeconds).toBeLessThanOrEqual(30);
  });
});
