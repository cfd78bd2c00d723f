import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, joinRoom, startGateways, tryConnect, until, type GatewayOptions, type TestSocket } from '../support/gateway.ts';

// The gateway's abuse limits: connections per client address (X-Forwarded-For only behind a
// trusted proxy), a frame budget per socket, the room cap under parallel joins, unknown
// streams remembered, and anonymous viewers counted once per address.

const t = useTestApp();
const sockets: WebSocket[] = [];
const started: Gateway[] = [];
let owner: TestUser;

beforeAll(async () => {
  owner = await newUser(t.app);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of started) await g.close();
});

async function gateway(options: GatewayOptions): Promise<string> {
  const { gateways, urls } = await startGateways(t.ctx, 1, options);
  started.push(...gateways);
  return urls[0]!;
}

const metricsOf = async (url: string) =>
  (await fetch(`http://${url}/metrics`, { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } })).text();
const errors = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'error');

describe('realtime limits', () => {
  it('opens exactly REALTIME_CONNECTIONS_PER_ADDRESS sockets per address, even when they connect in parallel', async () => {
    const url = await gateway({ limits: { connectionsPerAddress: 3 } });
    const user = await newUser(t.app);
    // Signed in, so every upgrade waits on Postgres: the slots must be taken before that.
    const attempts = await Promise.all(Array.from({ length: 4 }, () => tryConnect(url, `?token=${user.accessToken}`, {}, sockets)));
    expect(attempts.filter((a) => a instanceof WebSocket)).toHaveLength(3);
    expect(attempts.filter((a) => !(a instanceof WebSocket))).toEqual([429]);
    // Without TRUST_PROXY, X-Forwarded-For is the client's own say and changes nothing.
    expect(await tryConnect(url, '', { 'x-forwarded-for': '203.0.113.9' })).toBe(429);
    expect(await metricsOf(url)).toMatch(/streamhub_realtime_refused_connections_total\{reason="address_limit",service="realtime"\} 2\n/);

    // A closed socket gives its slot back.
    const first = attempts.find((a): a is WebSocket => a instanceof WebSocket)!;
    first.close();
    await once(first, 'close');
    // The gateway sees the TCP connection end a moment after the client does.
    let again: WebSocket | number = 0;
    await until(async () => (again = await tryConnect(url, '', {}, sockets)) instanceof WebSocket, 'the freed slot');
    expect(await tryConnect(url)).toBe(429);
  });

  it('counts connections by the forwarded address behind a trusted proxy', async () => {
    const url = await gateway({ trustProxy: true, limits: { connectionsPerAddress: 2 } });
    const from = (address: string) => tryConnect(url, '', { 'x-forwarded-for': address }, sockets);
    expect(await from('198.51.100.1')).toBeInstanceOf(WebSocket);
    // The proxy appends the address it saw: only the last entry counts.
    expect(await from('10.9.9.9, 198.51.100.1')).toBeInstanceOf(WebSocket);
    expect(await from('198.51.100.1')).toBe(429);
    expect(await from('198.51.100.1, 198.51.100.2')).toBeInstanceOf(WebSocket);
    // One IPv6 subscriber is one /64.
    expect(await from('2001:db8:1:2::1')).toBeInstanceOf(WebSocket);
    expect(await from('2001:db8:1:2:aaaa::2')).toBeInstanceOf(WebSocket);
    expect(await from('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(429);
    expect(await from('2001:db8:1:3::1')).toBeInstanceOf(WebSocket);
  });

  it('closes a socket that sends more frames than its budget, after answering exactly the budget', async () => {
    // A window of an hour, so nothing is refilled while the test runs.
    const url = await gateway({ limits: { frames: { count: 5, windowMs: 3_600_000 } } });
    const socket = await connectSocket(url, '', sockets);
    const closed = new Promise<number>((resolve) => socket.socket.once('close', (code) => resolve(code)));
    for (let i = 0; i < 6; i++) socket.send({ type: 'ping' });
    expect(await closed).toBe(1008);
    expect(socket.frames).toEqual([
      ...Array.from({ length: 5 }, () => ({ type: 'pong' })),
      { type: 'error', code: 'too_many_frames', message: 'Too many frames: at most 5 per 3600 s' },
    ]);
    expect(await metricsOf(url)).toMatch(/streamhub_realtime_frames_over_budget_total\{service="realtime"\} 1\n/);
  });

  it('holds the room cap of 10 when joins arrive in parallel', async () => {
    const url = await gateway({});
    const streams = [];
    for (let i = 0; i < 11; i++) streams.push(await insertStream(t.ctx, owner.id));
    const socket = await connectSocket(url, '', sockets);
    for (const streamId of streams) socket.send({ type: 'join', streamId });
    const answered = () => socket.frames.filter((f) => f.type === 'joined' || f.type === 'error');
    await until(() => answered().length === streams.length, 'an answer to every join');
    expect(socket.frames.filter((f) => f.type === 'joined')).toHaveLength(10);
    expect(errors(socket)).toEqual([{ type: 'error', code: 'too_many_rooms', message: 'A connection can be in at most 10 streams; leave one first' }]);
  });

  // README: "A connection may be in 10 streams at once … and join 30 times a minute."
  it('lets a connection join 30 times a minute and refuses the 31st', async () => {
    const url = await gateway({});
    const streams = [];
    for (let i = 0; i < 10; i++) streams.push(await insertStream(t.ctx, owner.id));
    const socket = await connectSocket(url, '', sockets);
    // Ten rooms, three times over, leaving in between: 30 joins and 20 leaves, inside the
    // frame budget (REALTIME_FRAMES_PER_10_SECONDS, 60).
    for (let round = 0; round < 3; round++) {
      for (const streamId of streams) await joinRoom(socket, streamId);
      if (round < 2) for (const streamId of streams) socket.send({ type: 'leave', streamId });
    }
    socket.send({ type: 'leave', streamId: streams[0] });
    socket.send({ type: 'join', streamId: streams[0] });
    await until(() => errors(socket).length === 1, 'the answer to the 31st join');
    expect(errors(socket)).toEqual([{ type: 'error', code: 'rate_limited', message: 'Too many joins; wait a minute', retryAfterSeconds: 60 }]);
    expect(socket.frames.filter((f) => f.type === 'joined')).toHaveLength(30);
  });

  it('remembers that a stream id is unknown instead of asking Postgres again', async () => {
    const url = await gateway({});
    const socket = await connectSocket(url, '', sockets);
    const id = randomUUID();
    socket.send({ type: 'join', streamId: id });
    await until(() => errors(socket).length === 1, 'the first refusal');
    // The row appears behind the gateway's back; only a fresh lookup would see it.
    await t.ctx.db
      .insertInto('streams')
      .values({ id, owner_id: owner.id, title: 'Late', status: 'live', stream_key_hash: randomUUID(), stream_key_prefix: 'live_test' })
      .execute();
    socket.send({ type: 'join', streamId: id });
    await until(() => errors(socket).length === 2, 'the second refusal');
    expect(errors(socket)).toEqual([
      { type: 'error', code: 'not_found', message: 'No such stream' },
      { type: 'error', code: 'not_found', message: 'No such stream' },
    ]);
    // A known stream still joins.
    const known = await insertStream(t.ctx, owner.id);
    socket.send({ type: 'join', streamId: known });
    await until(() => socket.frames.some((f) => f.type === 'joined' && f.streamId === known), 'the join');
  });

  it('counts anonymous viewers once per address, whatever device ids they make up', async () => {
    const url = await gateway({ trustProxy: true, viewerCountIntervalMs: 200 });
    const streamId = await insertStream(t.ctx, owner.id);
    const viewer = async (address: string, query = '') => {
      const socket = await connectSocket(url, query, sockets, { 'x-forwarded-for': address });
      socket.send({ type: 'join', streamId });
      await until(() => socket.frames.some((f) => f.type === 'joined'), 'joined');
      return socket;
    };
    for (const query of ['?device=a', '?device=b', '?device=c', '']) await viewer('198.51.100.7', query);
    await viewer('198.51.100.8', '?device=a');
    // Joined after all the others: the first count it hears includes every one of them.
    const sentinel = await viewer('198.51.100.8');
    await until(() => sentinel.frames.some((f) => f.type === 'viewers'), 'a count');
    expect(sentinel.frames.find((f) => f.type === 'viewers')).toEqual({ type: 'viewers', streamId, count: 2 });
  });
});
