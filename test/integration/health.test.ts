import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import { connectNats, type Nats } from '../../lib/nats.ts';
import { createStorage } from '../../lib/s3.ts';
import { useTestContext } from '../support/context.ts';
import { call } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

async function startNatsServer(port: number): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 40; i++) {
    try {
      const probe = await connectNats({ url: `nats://127.0.0.1:${port}`, subjectPrefix: '', name: 'probe' });
      await probe.connection.close();
      return child;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('private nats-server did not start');
}

const t = useTestContext();
/** How an operator or a Prometheus scraper asks: INTERNAL_SECRET as a bearer token or header. */
const operator = () => ({ authorization: `Bearer ${t.ctx.config.internalSecret}` });

describe('GET /health', () => {
  it('answers 200 naming every component to an operator when all are up', async () => {
    const app = createApp(t.ctx.apiDeps());
    const res = await call(app, 'GET', '/health', { headers: operator() });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', failing: [] });
    expect(Object.keys(res.json.components).sort()).toEqual(['mongo', 'nats', 'postgres', 's3', 'temporal']);
    for (const component of Object.values<{ status: string }>(res.json.components)) {
      expect(component.status).toBe('ok');
    }
    const viaHeader = await call(app, 'GET', '/health', { headers: { 'x-internal-secret': t.ctx.config.internalSecret } });
    expect(Object.keys(viaHeader.json.components)).toHaveLength(5);
  });

  it('tells the public the status only', async () => {
    const app = createApp(t.ctx.apiDeps());
    for (const headers of [{}, { 'x-internal-secret': 'wrong-secret-wrong' }, { authorization: 'Bearer wrong-secret-wrong' }] as Record<string, string>[]) {
      const res = await call(app, 'GET', '/health', { headers });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'ok' });
    }
  });

  it('answers 503 naming the component that stopped', async () => {
    // A NATS server of this test's own, so stopping it cannot disturb any other test.
    const port = await freePort();
    const server = await startNatsServer(port);
    let nats: Nats | undefined;
    try {
      nats = await connectNats({ url: `nats://127.0.0.1:${port}`, subjectPrefix: '', name: 'health-test' });
      const app = createApp({ ...t.ctx.apiDeps(), nats });
      expect((await call(app, 'GET', '/health')).status).toBe(200);

      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));

      const res = await call(app, 'GET', '/health', { headers: operator() });
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ status: 'failing', failing: ['nats'] });
      expect(res.json.components.postgres.status).toBe('ok');
      expect(res.json.components.nats.error).toEqual(expect.any(String));

      // The public learns that something is wrong, not what or why.
      const anonymous = await call(app, 'GET', '/health');
      expect(anonymous.status).toBe(503);
      expect(anonymous.json).toEqual({ status: 'failing' });
    } finally {
      server.kill('SIGKILL');
      await nats?.connection.close().catch(() => {});
    }
  });

  it('bounds a component that hangs by the health timeout', async () => {
    // An "S3" that accepts connections and never answers.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      // The configured bound (README: 2000 ms), not a shorter one: the bound applies to every
      // component, and at 300 ms a healthy Temporal on a loaded machine was once reported failing too.
      const { healthTimeoutMs } = t.ctx.config.api;
      const storage = createStorage({ ...t.ctx.config.s3, endpoint: `http://127.0.0.1:${port}` });
      const app = createApp({ ...t.ctx.apiDeps(), storage });
      const res = await call(app, 'GET', '/health', { headers: operator() });
      expect(res.status).toBe(503);
      expect(res.json.failing).toEqual(['s3']);
      expect(res.json.components.s3.error).toContain(`did not answer within ${healthTimeoutMs} ms`);
      const anonymous = await call(app, 'GET', '/health');
      expect(anonymous.text).toBe('{"status":"failing"}');
      storage.client.destroy();
    } finally {
      silent.close();
    }
  });
});

describe('GET /metrics', () => {
  it('is for operators only', async () => {
    const app = createApp(t.ctx.apiDeps());
    for (const headers of [{}, { authorization: 'Bearer not-the-secret' }, { 'x-internal-secret': 'not-the-secret' }] as Record<string, string>[]) {
      const res = await call(app, 'GET', '/metrics', { headers });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
      expect(res.text).not.toContain('streamhub_http');
    }
    const scraped = await call(app, 'GET', '/metrics', { headers: operator() });
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('streamhub_http_requests_total');
  });
});
