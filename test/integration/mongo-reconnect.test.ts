import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import { createMongo, pingMongo } from '../../lib/mongo.ts';
import { binaries } from '../../scripts/stack/paths.ts';
import { freePort } from '../support/ports.ts';

// The Node driver's lazy connect gives up for good after its first failure ("Topology is
// closed"). A process that starts while Mongo is down must still recover once Mongo is up.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Mongo connection', () => {
  it('recovers when Mongo comes up after the process started', async () => {
    const port = await freePort();
    const mongo = createMongo({ url: `mongodb://127.0.0.1:${port}/`, database: 'reconnect', appName: 'test-reconnect' });
    cleanups.push(() => mongo.close());
    await expect(pingMongo(mongo)).rejects.toThrow();

    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferretdb-reconnect-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ferretdb = spawn(
      binaries.ferretdb,
      ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--state-dir=${dir}`, `--listen-addr=127.0.0.1:${port}`, '--debug-addr=127.0.0.1:0', '--telemetry=disable', '--log-level=ERROR'],
      { stdio: 'ignore' },
    );
    cleanups.push(() => ferretdb.kill());
    const deadline = Date.now() + 20_000;
    let answered = false;
    while (!answered && Date.now() < deadline) {
      answered = await pingMongo(mongo).then(() => true, () => false);
      if (!answered) await sleep(250);
    }
    expect(answered).toBe(true);
  });
});
