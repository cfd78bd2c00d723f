import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectNats, ensureJetStream } from '../../lib/nats.ts';
import { MAX_FRAME_BYTES, type Gateway } from '../../realtime/gateway.ts';
import { useTestContext } from '../support/context.ts';
import { startGateways } from '../support/gateway.ts';
import { startPrivateNats } from '../support/private-services.ts';

const t = useTestContext();
let gateway: Gateway;
let base: string;
const WEB_APP = 'https://tv.example.test';

beforeAll(async () => {
  const started = await startGateways(t.ctx, 1, { corsOrigins: [WEB_APP] });
  gateway = started.gateways[0]!;
  base = started.urls[0]!;
});
afterAll(async () => {
  await gateway?.close();
});

function open(headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${base}/ws`, { headers });
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

  it('opens sockets only for the allowed browser origins (and for clients that send none)', async () => {
    const refused = new WebSocket(`ws://${base}/ws`, { headers: { origin: 'https://evil.example' } });
    const [err] = await once(refused, 'error');
    expect(String(err)).toContain('403');
    // The same origin written another way is the same origin.
    for (const origin of [WEB_APP, 'https://TV.example.test:443']) (await open({ origin })).close();
    (await open()).close();
    const metrics = await (await fetch(`http://${base}/metrics`, { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } })).text();
    expect(metrics).toMatch(/streamhub_realtime_refused_connections_total\{reason="origin",service="realtime"\} 1\n/);
  });

  it('tells public callers of /health only the status; components, sockets and /metrics are for internal callers', async () => {
    const publicHealth = await fetch(`http://${base}/health`);
    expect(publicHealth.status).toBe(200);
    expect(await publicHealth.json()).toEqual({ status: 'ok' });

    const internalHeaders: Record<string, string>[] = [{ 'x-internal-secret': t.ctx.config.internalSecret }, { authorization: `Bearer ${t.ctx.config.internalSecret}` }];
    for (const headers of internalHeaders) {
      const internal = await fetch(`http://${base}/health`, { headers });
      expect(internal.status).toBe(200);
      const body = (await internal.json()) as any;
      expect(body.status).toBe('ok');
      expect(body.components.nats.status).toBe('ok');
      expect(typeof body.sockets).toBe('number');
    }

    const publicHeaders: Record<string, string>[] = [{}, { 'x-internal-secret': 'wrong-secret-of-enough-length' }, { authorization: 'Bearer nope' }];
    for (const headers of publicHeaders) {
      const metrics = await fetch(`http://${base}/metrics`, { headers });
      expect(metrics.status).toBe(401);
      expect(((await metrics.json()) as any).error.code).toBe('unauthorized');
    }
    const metrics = await fetch(`http://${base}/metrics`, { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('streamhub_realtime_sockets');

    const other = await fetch(`http://${base}/elsewhere`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe('not_found');
  });

  it('answers an unhealthy /health with 503: no error text for the public, details for internal callers', async () => {
    const server = await startPrivateNats();
    const nats = await connectNats({ url: server.url, subjectPrefix: '', name: 'test-unhealthy-gateway' });
    let gateways: Gateway[] = [];
    try {
      await ensureJetStream(nats, '');
      let urls: string[];
      ({ gateways, urls } = await startGateways(t.ctx, 1, { nats }));
      await server.kill();
      const publicHealth = await fetch(`http://${urls[0]}/health`);
      expect(publicHealth.status).toBe(503);
      expect(await publicHealth.json()).toEqual({ status: 'failing' });
      const internal = await fetch(`http://${urls[0]}/health`, { headers: { 'x-internal-secret': t.ctx.config.internalSecret } });
      expect(internal.status).toBe(503);
      const body = (await internal.json()) as any;
      expect(body.status).toBe('failing');
      expect(body.failing).toEqual(['nats']);
      // The client library's own words (a disconnect or a timeout), for operators only.
      expect(body.components.nats.error).toMatch(/\w/);
    } finally {
      for (const g of gateways) await g.close();
      await nats.connection.close();
      await server.remove();
    }
  });
});
