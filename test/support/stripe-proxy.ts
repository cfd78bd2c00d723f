import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: string;
}

/**
 * Forwards to stripe-mock, recording each request. Faults as Stripe's network shows them:
 * the first `failFirst` requests are answered 503 (Stripe refused them), and the next
 * `loseReplies` reach stripe-mock but their answer is lost (the connection drops after
 * Stripe acted), which only an idempotency key makes safe to retry.
 */
export async function recordingProxy(target: string, faults: { failFirst?: number; loseReplies?: number } = {}) {
  const seen: ProxiedRequest[] = [];
  const failFirst = faults.failFirst ?? 0;
  const loseReplies = faults.loseReplies ?? 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method!, path: req.url!, idempotencyKey: req.headers['idempotency-key'] as string | undefined, body });
    if (seen.length <= failFirst) {
      res.writeHead(503, { 'content-type': 'application/json', 'stripe-should-retry': 'true' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: 'try again' } }));
      return;
    }
    const upstream = await fetch(new URL(req.url!, target), {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => ['authorization', 'content-type', 'idempotency-key', 'stripe-version'].includes(name))) as Record<string, string>,
      body: req.method === 'GET' ? undefined : body,
    });
    const answer = await upstream.text();
    if (seen.length <= failFirst + loseReplies) {
      req.socket.destroy();
      return;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(answer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
