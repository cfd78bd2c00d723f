import http from 'node:http';
import type { AddressInfo } from 'node:net';

// An HTTP proxy in front of stripe-mock that forwards every request but, the first time it sees
// an idempotency key on a chosen path, drops the reply: Stripe did the work, the caller never
// hears of it. Every forwarded request is recorded, to count what reached "Stripe".

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  replyDropped: boolean;
}

export async function startLossyProxy(target: string, dropFirstReplyOn: (path: string) => boolean) {
  const requests: RecordedRequest[] = [];
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const key = req.headers['idempotency-key'] as string | undefined;
      const drop = req.method === 'POST' && dropFirstReplyOn(path) && key !== undefined && !seen.has(key);
      if (key) seen.add(key);
      requests.push({ method: req.method ?? 'GET', path, idempotencyKey: key, replyDropped: drop });
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<string, string>;
      try {
        const upstream = await fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
        const body = Buffer.from(await upstream.arrayBuffer());
        if (drop) {
          req.socket.destroy();
          return;
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(body);
      } catch {
        req.socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
