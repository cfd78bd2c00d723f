import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const stackDir = mkdtempSync(path.join(os.tmpdir(), 'stack-launcher-'));
afterAll(() => rmSync(stackDir, { recursive: true, force: true }));

describe('npm start launcher', () => {
  it('says so and exits cleanly when a launcher already runs the stack', async () => {
    // This test process stands in for the running launcher.
    writeFileSync(path.join(stackDir, 'stack.pid'), String(process.pid));
    const { stdout } = await run(process.execPath, ['scripts/stack.ts', 'start'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, STREAMHUB_STACK_DIR: stackDir },
    });
    expect(stdout).toContain(`StreamHub is already running here (launcher pid ${process.pid})`);
    expect(readFileSync(path.join(stackDir, 'stack.pid'), 'utf8')).toBe(String(process.pid));
  });

  it('refuses an unknown mode with a usage message', async () => {
    const result = await run(process.execPath, ['scripts/stack.ts', 'sideways'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, STREAMHUB_STACK_DIR: stackDir },
    }).catch((err: { code: number; stdout: string }) => err);
    expect(result).toMatchObject({ code: 64, stdout: expect.stringContaining('use start or services') });
  });
});
