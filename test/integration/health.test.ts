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

describe('GET /health', () => {
  it('answers 200 naming every component when all are up', async () => {
    const app = createApp(t.ctx.apiDeps());
    const res = await call(app, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json.success).toBe(true);
    expect(Object.keys(res.json.data.components).sort()).toEqual(['mongo', 'nats', 'postgres', 's3', 'temporal']);
    for (const component of Object.values<{ status: string }>(res.json.data.components)) {
      expect(component.status).toBe('ok');
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

      const res = await call(app, 'GET', '/health');
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({
        success: false,
        error: { code: 'unavailable', message: 'Unhealthy: nats', details: { failing: ['nats'] } },
      });
      expect(res.json.error.details.components.postgres.status).toBe('ok');
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
      const config = { ...t.ctx.config, api: { ...t.ctx.config.api, healthTimeoutMs: 300 } };
      const storage = createStorage({ ...t.ctx.config.s3, endpoint: `http://127.0.0.1:${port}` });
      const app = createApp({ ...t.ctx.apiDeps(), config, storage });
      const res = await call(app, 'GET', '/health');
      expect(res.status).toBe(503);
      expect(res.json.error.details.failing).toEqual(['s3']);
      expect(res.json.error.details.components.s3.error).toContain('did not answer within 300 ms');
      storage.client.destroy();
    } finally {
      silent.close();
    }
  });
});
