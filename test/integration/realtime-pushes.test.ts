import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sleep } from '../../lib/async.ts';
import { notificationSubject } from '../../lib/notifications.ts';
import { publishStreamStatus } from '../../lib/streams.ts';
import { publishVideoProgress, uploadSourcePath } from '../../lib/videos.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { anonymousViewerKey } from '../../realtime/viewers.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { connectSocket, gatewayProcessEnv, insertStream, startGateways, until } from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';

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

    anon.send({ type: 'leave', streamId });
    await sleep(200);
    publishStreamStatus(t.ctx.nats, { streamId, status: 'live' });
    await until(() => signed.frames.filter((f) => f.type === 'stream_status').length === 2, 'second status');
    await sleep(200);
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
    await sleep(200); // subscriptions are set up as the sockets connect
    t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, alice.id), JSON.stringify({ id: 'n1', type: 'new_follower' }));
    const video = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: alice.id, title: 'Mine', source: 'upload', source_key: uploadSourcePath('x') })
      .returning('id')
      .executeTakeFirstOrThrow();
    publishVideoProgress(t.ctx.nats, { videoId: video.id, percent: 42, status: 'processing' });
    await until(() => a.frames.some((f) => f.type === 'notification') && a.frames.some((f) => f.type === 'progress'), 'alice’s pushes');
    expect(a.frames.find((f) => f.type === 'notification')).toEqual({ type: 'notification', notification: { id: 'n1', type: 'new_follower' } });
    expect(a.frames.find((f) => f.type === 'progress')).toEqual({ type: 'progress', videoId: video.id, percent: 42 });
    await sleep(300);
    expect(b.frames.filter((f) => f.type === 'notification' || f.type === 'progress')).toEqual([]);
  });

  it('closes a client that stops reading while the others keep receiving', async () => {
    const slow = await connect(0, as(alice));
    const fast = await connect(0, as(alice));
    const closed = once(slow.socket, 'close');
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await sleep(200);
    const big = 'x'.repeat(200_000);
    for (let i = 0; i < 150; i++) {
      t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, alice.id), JSON.stringify({ id: `big-${i}`, big }));
      await sleep(2);
    }
    await until(() => fast.frames.filter((f) => String(f.notification?.id).startsWith('big-')).length === 150, 'the fast client gets everything', 20_000);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
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
    // An unchanged count is not sent again (ticks are every 300 ms here); a newcomer still gets it.
    const framesSoFar = viewers[0]!.frames.length;
    await sleep(1000);
    expect(viewers[0]!.frames.length).toBe(framesSoFar);
    const newcomerTab = await connect(1, as(alice));
    newcomerTab.send({ type: 'join', streamId: stream });
    await until(() => count(newcomerTab) === 4, 'the count for a second tab of a counted viewer');

    // A third gateway in its own process, killed without a chance to clean up.
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'realtime/server.ts'], {
      env: gatewayProcessEnv(t.ctx, port),
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); i++) await sleep(200);
    const remote = new WebSocket(`ws://127.0.0.1:${port}/ws?device=dev-3`);
    await once(remote, 'open');
    remote.send(JSON.stringify({ type: 'join', streamId: stream }));
    await until(() => count(viewers[0]!) === 5, 'the third gateway’s viewer counted', 15_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
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
