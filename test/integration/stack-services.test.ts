import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, processEnv } from '../../lib/config.ts';
import { ensureServices, serviceSpecs, ServiceError, stopServices } from '../../scripts/stack/services.ts';
import { freePort } from '../support/ports.ts';

// The UI and side ports these tests never connect to; only the service under test matters.
const ports = { temporalUi: 8233, rtmp: 1935, hlsHttp: 8080, rtmpControl: 8081, minioConsole: 9001, mailpitUi: 8025 };
let squatter: Server;
let port: number;
const sockets = new Set<Socket>();
beforeAll(async () => {
  // Something that is not MinIO holds the port StreamHub would use for S3.
  squatter = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 418 I am a teapot\r\n\r\n');
  });
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  port = (squatter.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
});

describe('local stack services', () => {
  it('names the service and the variable to change when its port belongs to another program', async () => {
    const config = parseConfig({ ...processEnv(), S3_ENDPOINT: `http://127.0.0.1:${port}` });
    const minio = serviceSpecs(config, ports, { internalSecret: config.internalSecret }).filter((s) => s.id === 'minio');
    const error = await ensureServices(minio, () => {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toBe(
      `MinIO (S3): port 127.0.0.1:${port} is taken by a program that is not MinIO (S3); stop it or set S3_ENDPOINT`,
    );
  });

  it('reuses a service that already answers instead of starting another', async () => {
    const config = parseConfig(processEnv());
    const lines: string[] = [];
    const nats = serviceSpecs(config, ports, { internalSecret: config.internalSecret }).filter((s) => s.id === 'nats');
    expect(await ensureServices(nats, (line) => lines.push(line))).toEqual([]);
    const natsUrl = new URL(config.nats.url);
    expect(lines).toEqual([`  NATS (JetStream): reusing the one at ${natsUrl.hostname}:${natsUrl.port || 4222}`]);
  });

  it('runs its own stripe-mock where the Stripe client points at this machine, and none where it points at Stripe', async () => {
    const stripeMock = (env: Record<string, string>) => {
      const config = parseConfig({ ...processEnv(), ...env });
      return serviceSpecs(config, ports, { internalSecret: config.internalSecret }).filter((s) => s.id === 'stripe-mock');
    };
    expect(stripeMock({ STRIPE_API_BASE_URL: '' })).toEqual([]);
    expect(stripeMock({ STRIPE_API_BASE_URL: 'https://api.stripe.com' })).toEqual([]);

    const own = await freePort();
    const specs = stripeMock({ STRIPE_API_BASE_URL: `http://127.0.0.1:${own}` });
    expect(specs.map((s) => [s.host, s.port, s.envVar])).toEqual([['127.0.0.1', own, 'STRIPE_API_BASE_URL']]);
    const lines: string[] = [];
    const started = await ensureServices(specs, (line) => lines.push(line));
    try {
      expect(lines).toEqual([expect.stringContaining(`stripe-mock (Stripe API): started on 127.0.0.1:${own}`)]);
      const res = await fetch(`http://127.0.0.1:${own}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_123', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=500&currency=usd',
      });
      expect(await res.json()).toMatchObject({ object: 'payment_intent', amount: 500 });
    } finally {
      await stopServices(started);
    }

    const error = await ensureServices(stripeMock({ STRIPE_API_BASE_URL: `http://127.0.0.1:${port}` }), () => {}).catch((err: unknown) => err);
    expect((error as ServiceError).message).toBe(
      `stripe-mock (Stripe API): port 127.0.0.1:${port} is taken by a program that is not stripe-mock (Stripe API); stop it or set STRIPE_API_BASE_URL`,
    );
  });

  it('runs its own mailpit where SMTP_URL points at this machine, and none where it points at a relay', async () => {
    const mailpit = (env: Record<string, string>, ui = 8025) => {
      const config = parseConfig({ ...processEnv(), ...env });
      return serviceSpecs(config, { ...ports, mailpitUi: ui }, { internalSecret: config.internalSecret }).filter((s) => s.id === 'mailpit');
    };
    expect(mailpit({ SMTP_URL: 'smtps://user:secret@smtp.example.org:465' })).toEqual([]);

    const [smtp, ui] = [await freePort(), await freePort()];
    const specs = mailpit({ SMTP_URL: `smtp://127.0.0.1:${smtp}` }, ui);
    expect(specs.map((s) => [s.host, s.port, s.envVar])).toEqual([['127.0.0.1', smtp, 'SMTP_URL']]);
    const lines: string[] = [];
    const started = await ensureServices(specs, (line) => lines.push(line));
    try {
      expect(lines).toEqual([expect.stringContaining(`mailpit (SMTP): started on 127.0.0.1:${smtp}`)]);
      expect(((await (await fetch(`http://127.0.0.1:${ui}/api/v1/messages`)).json()) as { total: number }).total).toBe(0);
    } finally {
      await stopServices(started);
    }
  });
});
