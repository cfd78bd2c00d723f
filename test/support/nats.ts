import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../lib/async.ts';
import { connectNats } from '../../lib/nats.ts';
import { freePort } from './ports.ts';

/** A nats-server of the test's own (with JetStream), so stopping it disturbs no other test. */
export async function startPrivateNats(): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'streamhub-nats-'));
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(storeDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 50; i++) {
    try {
      const probe = await connectNats({ url, subjectPrefix: '', name: 'probe' });
      await probe.connection.close();
      return { url, process: child, stop };
    } catch {
      await sleep(100);
    }
  }
  await stop();
  throw new Error('private nats-server did not start');
}
