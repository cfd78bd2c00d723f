import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { notificationSubject } from '../../lib/notifications.ts';
import { publishSignOut, signOutMessages } from '../../lib/sign-outs.ts';
import { publishStreamStatus } from '../../lib/streams.ts';
import { createTokenSigner } from '../../lib/tokens.ts';
import type { Gateway } from '../../realtime/gateway.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, PASSWORD, setStatus, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, startGateways, until, type TestSocket } from '../support/gateway.ts';
import { call } from '../support/http.ts';

// A socket's identity ends with its session: logout, refresh-token reuse and bans reach every
// gateway through NATS; the periodic check catches what changes only in the database; an
// expiring access token signs the socket out unless the client sent a fresh one. A signed-out
// socket stays open as an anonymous viewer.

const t = useTestApp();
const sockets: WebSocket[] = [];
let gateways: Gateway[] = [];
let urls: string[] = [];
let checking: { gateways: Gateway[]; urls: string[] };
let owner: TestUser;
let streamId: string;

beforeAll(async () => {
  // Gateways 0 and 1 re-check sessions only hourly: what they do within the test is the NATS event's doing.
  ({ gateways, urls } = await startGateways(t.ctx, 2, { limits: { sessionCheckMs: 3_600_000 } }));
  checking = await startGateways(t.ctx, 1, { limits: { sessionCheckMs: 200 } });
  owner = await newUser(t.app);
  streamId = await insertStream(t.ctx, owner.id);
});
afterAll(async () => {
  for (const s of sockets) s.terminate();
  for (const g of [...gateways, ...checking.gateways]) await g.close();
});

const connect = (url: string, token?: string) => connectSocket(url, token ? `?token=${token}` : '', sockets);
const signedOut = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'signed_out');
const framesOf = (socket: TestSocket, type: string) => socket.frames.filter((f) => f.type === type);

async function joined(socket: TestSocket, stream = streamId) {
  const before = socket.frames.length;
  socket.send({ type: 'join', streamId: stream });
  await until(() => socket.frames.slice(before).some((f) => f.type === 'joined' && f.streamId === stream), 'joined');
}

async function say(socket: TestSocket, text: string) {
  const nonce = `n-${Math.random()}`;
  socket.send({ type: 'chat', streamId, text, nonce });
  await until(() => socket.frames.some((f) => f.nonce === nonce), `an answer to ${nonce}`);
  return socket.frames.find((f) => f.nonce === nonce);
}

async function login(user: TestUser) {
  const res = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password: PASSWORD } });
  expect(res.status).toBe(200);
  return res.json.data as { accessToken: string; refreshToken: string };
}

/** A user's notification, then a status change of the room as the sentinel that follows it on the same NATS connection. */
async function notifyThenSentinel(userId: string, sockets: TestSocket[]) {
  const before = sockets.map((s) => framesOf(s, 'stream_status').length);
  t.ctx.nats.connection.publish(notificationSubject(t.ctx.nats, userId), JSON.stringify({ id: `n-${Math.random()}`, type: 'new_follower' }));
  publishStreamStatus(t.ctx.nats, { streamId, status: 'live' });
  await until(() => sockets.every((s, i) => framesOf(s, 'stream_status').length > before[i]!), 'the sentinel status');
}

describe('realtime sessions', () => {
  it('signs a logged-out session’s sockets out on every gateway, within 10 s, and leaves the user’s other sessions alone', async () => {
    const user = await newUser(t.app);
    const otherSession = await login(user);
    const [onFirst, onSecond, other] = [await connect(urls[0]!, user.accessToken), await connect(urls[1]!, user.accessToken), await connect(urls[1]!, otherSession.accessToken)];
    for (const s of [onFirst, onSecond, other]) await joined(s);

    expect((await call(t.app, 'POST', '/api/v1/auth/logout', { headers: user.auth })).status).toBe(200);
    await until(() => signedOut(onFirst).length === 1 && signedOut(onSecond).length === 1, 'both sockets told', 10_000);
    expect(signedOut(onSecond)).toEqual([{ type: 'signed_out', reason: 'logout', message: signOutMessages.logout }]);

    // Still open and still in the room, now as an anonymous viewer.
    expect(await say(onSecond, 'as who?')).toMatchObject({ type: 'error', code: 'sign_in_required' });
    expect(await say(onFirst, 'as who?')).toMatchObject({ type: 'error', code: 'sign_in_required' });
    await notifyThenSentinel(user.id, [onFirst, onSecond, other]);
    expect(framesOf(onFirst, 'notification')).toEqual([]);
    expect(framesOf(onSecond, 'notification')).toEqual([]);
    expect(framesOf(other, 'notification')).toHaveLength(1);

    // The other session was not ended.
    expect(signedOut(other)).toEqual([]);
    expect(await say(other, 'still me')).toMatchObject({ type: 'chat', userId: user.id, text: 'still me' });
  });

  it('signs out every socket of a session revoked for refresh-token reuse, whichever access token they used', async () => {
    const user = await newUser(t.app);
    const first = await connect(urls[0]!, user.accessToken);
    const rotated = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);
    const second = await connect(urls[1]!, rotated.json.data.accessToken);

    const reused = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(reused.status).toBe(401);
    expect(reused.json.error.code).toBe('refresh_token_reused');
    await until(() => signedOut(first).length === 1 && signedOut(second).length === 1, 'both sockets told', 10_000);
    for (const s of [first, second]) {
      expect(signedOut(s)).toEqual([{ type: 'signed_out', reason: 'refresh_token_reused', message: signOutMessages.refresh_token_reused }]);
    }
  });

  it('signs out every session of a banned account when the ban is announced, and refuses its tokens in auth frames', async () => {
    const user = await newUser(t.app);
    const otherSession = await login(user);
    const mine = [await connect(urls[0]!, user.accessToken), await connect(urls[1]!, otherSession.accessToken)];
    const bystander = await newUser(t.app);
    const theirs = await connect(urls[1]!, bystander.accessToken);

    await setStatus(t.ctx.db, user.id, 'banned');
    publishSignOut(t.ctx.nats, { userId: user.id, reason: 'account_banned' });
    await until(() => mine.every((s) => signedOut(s).length === 1), 'every session told', 10_000);
    for (const s of mine) expect(signedOut(s)[0]).toMatchObject({ reason: 'account_banned' });

    mine[1]!.send({ type: 'auth', token: otherSession.accessToken });
    await until(() => framesOf(mine[1]!, 'error').length === 1, 'the refusal');
    expect(framesOf(mine[1]!, 'error')[0]).toMatchObject({ code: 'account_banned' });
    expect(framesOf(mine[1]!, 'authenticated')).toEqual([]);

    await joined(theirs);
    expect(await say(theirs, 'unaffected')).toMatchObject({ type: 'chat', userId: bystander.id });
    expect(signedOut(theirs)).toEqual([]);
  });

  it('catches, by its periodic check, a suspension made only in the database', async () => {
    const user = await newUser(t.app);
    const socket = await connect(checking.urls[0]!, user.accessToken);
    await joined(socket);
    await setStatus(t.ctx.db, user.id, 'suspended', new Date(Date.now() + 3_600_000));
    await until(() => signedOut(socket).length === 1, 'the sign-out', 10_000);
    expect(signedOut(socket)[0]).toEqual({ type: 'signed_out', reason: 'account_suspended', message: signOutMessages.account_suspended });
    expect(await say(socket, 'hello?')).toMatchObject({ code: 'sign_in_required' });
  });

  it('signs a socket out when its access token expires', async () => {
    const user = await newUser(t.app);
    const { sessionId } = await tokensFor(user);
    const short = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: 3 }).signAccess({ userId: user.id, role: 'viewer', sessionId });
    const socket = await connect(urls[0]!, short.token);
    await joined(socket);
    expect(await say(socket, 'while it lasts')).toMatchObject({ type: 'chat', userId: user.id });

    await until(() => signedOut(socket).length === 1, 'the sign-out at expiry', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(short.claims.expiresAt.getTime());
    expect(signedOut(socket)[0]).toEqual({ type: 'signed_out', reason: 'token_expired', message: signOutMessages.token_expired });
    expect(await say(socket, 'after')).toMatchObject({ code: 'sign_in_required' });
  });

  it('keeps a socket signed in past its token’s expiry when the client sends a fresh token', async () => {
    const user = await newUser(t.app);
    const { sessionId, expiresAt } = await tokensFor(user);
    const short = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: 3 }).signAccess({ userId: user.id, role: 'viewer', sessionId });
    const socket = await connect(urls[1]!, short.token);
    await joined(socket);
    socket.send({ type: 'auth', token: user.accessToken });
    await until(() => framesOf(socket, 'authenticated').length === 1, 'the answer');
    expect(framesOf(socket, 'authenticated')[0]).toEqual({ type: 'authenticated', userId: user.id, expiresAt: expiresAt.toISOString() });

    // A sentinel whose token expires after the first one did: once it is signed out, the first token's time has passed too.
    const later = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: 5 }).signAccess({ userId: user.id, role: 'viewer', sessionId });
    expect(later.claims.expiresAt.getTime()).toBeGreaterThan(short.claims.expiresAt.getTime());
    const sentinel = await connect(urls[1]!, later.token);
    await until(() => signedOut(sentinel).length === 1, 'the sentinel’s expiry', 10_000);
    expect(signedOut(socket)).toEqual([]);
    expect(await say(socket, 'still here')).toMatchObject({ type: 'chat', userId: user.id });
  });

  it('signs an anonymous socket in with an auth frame, and refuses bad tokens without changing who it is', async () => {
    const user = await newUser(t.app);
    const socket = await connect(urls[0]!);
    await joined(socket);
    expect(await say(socket, 'anon')).toMatchObject({ code: 'sign_in_required' });

    socket.send({ type: 'auth', token: 'not.a.jwt' });
    await until(() => framesOf(socket, 'error').length === 2, 'the refusal');
    expect(framesOf(socket, 'error')[1]).toMatchObject({ type: 'error', code: 'unauthorized' });

    socket.send({ type: 'auth', token: user.accessToken });
    await until(() => framesOf(socket, 'authenticated').length === 1, 'the sign-in');
    expect(await say(socket, 'me now')).toMatchObject({ type: 'chat', userId: user.id });
    await notifyThenSentinel(user.id, [socket]);
    expect(framesOf(socket, 'notification')).toHaveLength(1);

    const expired = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: -60 }).signAccess({
      userId: user.id,
      role: 'viewer',
      sessionId: (await tokensFor(user)).sessionId,
    });
    socket.send({ type: 'auth', token: expired.token });
    await until(() => framesOf(socket, 'error').some((f) => f.code === 'token_expired'), 'the refusal of an expired token');
    expect(await say(socket, 'still me')).toMatchObject({ type: 'chat', userId: user.id });
  });
});

async function tokensFor(user: TestUser) {
  return createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: 900 }).verifyAccess(user.accessToken);
}
