import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { notificationSubject } from '../../lib/notifications.ts';
import { publishStreamStatus } from '../../lib/streams.ts';
import { publishVideoProgress, uploadSourcePath } from '../../lib/videos.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { anonymousViewerKey } from '../../realtime/viewers.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { connectSocket, drained, insertStream, joinRoom, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { spawnGatewayProcess } from '../support/processes.ts';

// Two gateway instances coordinating only through NATS: stream status, notifications,
// video progress and viewer counts reach the right sockets on whichever gateway they are.

const t = useTestApp();
let gateways: Gateway[] = [];
let urls: string[] = [];
let alice: TestUser;
let bob: TestUser;
let streamId: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  ({ gateways, urls } = await startGateways(t.ctx, 2, { viewerCountIntervalMs: 300 }));
  alice = await newUser(t.app);
  bob = await newUser(t.app);
  streamId = await newStream(alice.id);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of gateways) await g.close();
});

const newStream = (ownerId: string) => insertStream(t.ctx, ownerId);
const connect = (g: number, query = '') => connectSocket(urls[g]!, query, sockets);
const as = (user: TestUser) => `?token=${user.accessToken}`;
const metricsOf = async (g: number) => (await fetch(`http://${urls[g]}/metrics`, { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } })).text();

/**
 * Waits until the gateway of `socket` has subscribed to `userId`'s notifications: sign-in
 * subscribes, but NATS may see a publish before that subscription. Probes until one arrives.
 */
async function notificationsFlowing(socket: TestSocket, userId: string) {
  const probe = `probe-${randomUUID()}`;
  await until(() => {
    t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, userId), JSON.stringify({ id: probe }));
    return socket.frames.some((f) => f.notification?.id === probe);
  }, 'the notification subscription');
}

describe('realtime gateway pushes', () => {
  it('forwards stream status to the stream’s viewers on every gateway, and stops after leave', async () => {
    const anon = await connect(0, '?device=dev-a');
    const signed = await connect(1, as(bob));
    for (const c of [anon, signed]) c.send({ type: 'join', streamId });
    await until(() => anon.frames.some((f) => f.type === 'joined') && signed.frames.some((f) => f.type === 'joined'), 'joined');
    expect(anon.frames.find((f) => f.type === 'joined')).toEqual({ type: 'joined', streamId, history: [] });

    publishStreamStatus(t.ctx.nats, { streamId, status: 'reconnecting' });
    await until(() => [anon, signed].every((c) => c.frames.some((f) => f.type === 'stream_status')), 'status on both gateways');
    expect(signed.frames.find((f) => f.type === 'stream_status')).toEqual({ type: 'stream_status', streamId, status: 'reconnecting' });

    // A witness on the same gateway as the leaver: the status reaching it is when the leaver would get one.
    const witness = await connect(0);
    await joinRoom(witness, streamId);
    anon.send({ type: 'leave', streamId });
    await drained(anon);
    publishStreamStatus(t.ctx.nats, { streamId, status: 'live' });
    for (const c of [signed, witness]) await until(() => c.frames.some((f) => f.type === 'stream_status' && f.status === 'live'), 'the second status');
    await drained(anon);
    expect(anon.frames.filter((f) => f.type === 'stream_status')).toHaveLength(1);
  });

  it('refuses unknown streams and bad tokens', async () => {
    const c = await connect(0);
    c.send({ type: 'join', streamId: randomUUID() });
    c.send({ type: 'join', streamId: 'not-a-stream' });
    await until(() => c.frames.filter((f) => f.code === 'not_found').length === 2, 'two not_found errors');
    const refused = new WebSocket(`ws://${urls[0]}/ws?token=not.a.jwt`);
    const [err] = await once(refused, 'error');
    expect(String(err)).toContain('401');
  });

  it('pushes notifications and video progress only to their user', async () => {
    const a = await connect(0, as(alice));
    const b = await connect(1, as(bob));
    // Alice on bob's gateway too: what reaches her there would have reached a leaky bob by then.
    const aliceBeside = await connect(1, as(alice));
    for (const s of [a, aliceBeside]) await notificationsFlowing(s, alice.id);
    t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, alice.id), JSON.stringify({ id: 'n1', type: 'new_follower' }));
    const video = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: alice.id, title: 'Mine', source: 'upload', source_key: uploadSourcePath('x') })
      .returning('id')
      .executeTakeFirstOrThrow();
    publishVideoProgress(t.ctx.nats, { videoId: video.id, percent: 42, status: 'processing' });
    for (const s of [a, aliceBeside]) {
      await until(() => s.frames.some((f) => f.notification?.id === 'n1') && s.frames.some((f) => f.type === 'progress'), 'alice’s pushes');
    }
    expect(a.frames.find((f) => f.notification?.id === 'n1')).toEqual({ type: 'notification', notification: { id: 'n1', type: 'new_follower' } });
    expect(a.frames.find((f) => f.type === 'progress')).toEqual({ type: 'progress', videoId: video.id, percent: 42 });
    await drained(b);
    expect(b.frames.filter((f) => f.type === 'notification' || f.type === 'progress')).toEqual([]);
  });

  // README: "A socket that falls more than 1 MiB behind is cut off."
  it('cuts off a socket with more than 1 MiB waiting in the gateway, not before, while its twin keeps receiving', async () => {
    const user = await newUser(t.app);
    // The gateway's end of the slow socket, to read how much waits there for the client.
    let gatewaySide: Socket | undefined;
    gateways[0]!.server.once('upgrade', (_req, socket: Socket) => (gatewaySide = socket));
    const slow = await connect(0, as(user));
    const fast = await connect(0, as(user));
    await notificationsFlowing(fast, user.id);
    const closed = new Promise<number>((resolve) => slow.socket.once('close', (code) => resolve(code)));
    const bigFrames = () => fast.frames.filter((f) => f.notification?.id?.startsWith('big-')).length;
    const slowConsumers = async () => Number(/streamhub_realtime_slow_consumers_total\{service="realtime"\} (\d+)/.exec(await metricsOf(0))?.[1] ?? 0);
    const cutBefore = await slowConsumers();

    const tcp = (slow.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();
    // One 64 KiB frame at a time, noting what waits before each is sent, until one is cut off.
    const big = 'x'.repeat(64 * 1024);
    const waiting: number[] = [];
    while ((await slowConsumers()) === cutBefore) {
      if (waiting.length === 500) throw new Error('never cut off after 32 MiB');
      waiting.push(gatewaySide!.writableLength);
      t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, user.id), JSON.stringify({ id: `big-${waiting.length}`, big }));
      const sent = waiting.length;
      await until(() => bigFrames() === sent, `frame ${sent} at the fast twin`);
    }
    // The frame that found more than 1 MiB waiting cut the socket off; every earlier one found at most that.
    expect(waiting.at(-1)).toBeGreaterThan(1024 * 1024);
    expect(Math.max(...waiting.slice(0, -1))).toBeLessThanOrEqual(1024 * 1024);
    expect(Math.max(...waiting.slice(0, -1))).toBeGreaterThan(1024 * 1024 - 2 * big.length);
    tcp.resume();
    // Cut off, not closed: a close frame would queue behind what it is not reading.
    expect(await closed).toBe(1006);
    expect(await slowConsumers()).toBe(cutBefore + 1);
    expect(fast.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('counts viewers across gateways, once per user or client address, and forgets a crashed gateway', async () => {
    const stream = await newStream(alice.id);
    const viewers = [
      await connect(0, as(bob)), await connect(0, as(bob)), await connect(0, '?device=dev-1'),
      await connect(1, as(alice)), await connect(1, '?device=dev-2'),
    ];
    for (const v of viewers) v.send({ type: 'join', streamId: stream });
    const count = (c: (typeof viewers)[number]) => c.frames.filter((f) => f.type === 'viewers' && f.streamId === stream).at(-1)?.count;
    await until(() => viewers.every((v) => count(v) === 4), 'a total of 4 everywhere');
    // An unchanged count is not sent again; a newcomer still gets it. The sentinel is a count
    // that changes on another stream of the same gateway: every tick announces both streams.
    const framesSoFar = viewers[0]!.frames.length;
    const other = await newStream(alice.id);
    const [first, second] = [await connect(0, as(alice)), await connect(0, as(bob))];
    const otherCount = () => first.frames.filter((f) => f.type === 'viewers' && f.streamId === other).at(-1)?.count;
    await joinRoom(first, other);
    await until(() => otherCount() === 1, 'the other stream’s count');
    await joinRoom(second, other);
    await until(() => otherCount() === 2, 'the other stream’s new count');
    await drained(viewers[0]!);
    expect(viewers[0]!.frames.slice(framesSoFar).filter((f) => f.type !== 'pong')).toEqual([]);
    const newcomerTab = await connect(1, as(alice));
    newcomerTab.send({ type: 'join', streamId: stream });
    await until(() => count(newcomerTab) === 4, 'the count for a second tab of a counted viewer');

    // A third gateway in its own process, killed without a chance to clean up.
    const third = await spawnGatewayProcess(t.ctx);
    const remote = await connectSocket(third.host, '?device=dev-3', sockets);
    remote.send({ type: 'join', streamId: stream });
    await until(() => count(viewers[0]!) === 5, 'the third gateway’s viewer counted', 15_000);
    await third.kill();
    await until(() => count(viewers[0]!) === 4, 'the crashed gateway’s share expiring', 30_000);

    viewers[2]!.socket.close();
    await until(() => count(viewers[3]!) === 3, 'a leave');
    const seen = viewers.flatMap((v) => v.frames.filter((f) => f.type === 'viewers' && f.streamId === stream).map((f) => f.count as number));
    expect(Math.max(...seen)).toBe(5);
    const row = await t.ctx.db.selectFrom('streams').select(['current_viewers', 'peak_viewers', 'unique_viewers']).where('id', '=', stream).executeTakeFirstOrThrow();
    // Unique: bob (two tabs), alice, and the one address all three anonymous sockets came from.
    // (Gateways count their own sockets: the address counted on each of three gateways made the peak.)
    expect(row).toEqual({ current_viewers: 3, peak_viewers: 5, unique_viewers: 3 });
    const keys = await t.ctx.db.selectFrom('stream_viewers').select('viewer_key').where('stream_id', '=', stream).orderBy('viewer_key').execute();
    expect(keys.map((k) => k.viewer_key)).toEqual([anonymousViewerKey(t.ctx.config.internalSecret, '127.0.0.1'), `u:${alice.id}`, `u:${bob.id}`].sort());
  });
});
