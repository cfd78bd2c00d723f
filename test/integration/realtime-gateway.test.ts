import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGateway, MAX_FRAME_BYTES, type Gateway } from '../../realtime/gateway.ts';
import { createTokenSigner } from '../../lib/tokens.ts';
import { createTestContext, type TestContext } from '../support/context.ts';

let ctx: TestContext;
let gateway: Gateway;
let base: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const tokens = createTokenSigner({ secret: ctx.config.auth.jwtSecret, ttlSeconds: 900 });
  gateway = await createGateway({ logger: ctx.logger, nats: ctx.nats, db: ctx.db, mongo: ctx.mongo, tokens, healthTimeoutMs: 1000 });
  await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gateway?.close();
  await ctx?.cleanup();
});

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${base}/ws`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

const nextFrame = (socket: WebSocket) =>
  new Promise<any>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));

describe('realtime gateway', () => {
  it('answers ping with pong', async () => {
    const socket = await open();
    socket.send(JSON.stringify({ type: 'ping' }));
    expect(await nextFrame(socket)).toEqual({ type: 'pong' });
    socket.close();
  });

  it('answers malformed frames with an error frame and keeps the socket open', async () => {
    const socket = await open();
    socket.send('not json');
    expect(await nextFrame(socket)).toMatchObject({ type: 'error', code: 'bad_frame' });
    socket.send(JSON.stringify({ type: 'chat', text: 'hi', nonce: 'n-1' }));
    expect(await nextFrame(socket)).toMatchObject({ type: 'error', code: 'bad_frame', nonce: 'n-1' });
    socket.send(JSON.stringify({ type: 'ping' }));
    expect(await nextFrame(socket)).toEqual({ type: 'pong' });
    socket.close();
  });

  it('closes a socket that sends a frame over the size limit', async () => {
    const socket = await open();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect(await closed).toBe(1009); // "message too big"
  });

  it('serves /health naming NATS, and 404s other paths', async () => {
    const health = await fetch(`http://${base}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as any).data.components.nats.status).toBe('ok');
    const other = await fetch(`http://${base}/elsewhere`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe('not_found');
  });
});
