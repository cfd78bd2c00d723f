import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepStaleScratch } from '../../activities/media.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'scratch-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited. */
const deadPid = () => Number(execFileSync('sh', ['-c', 'echo $$']).toString().trim());

describe('sweepStaleScratch', () => {
  it('removes the scratch of worker processes that are gone, however young, and keeps a live one’s', async () => {
    const dirs = {
      dead: path.join(root, `pid-${deadPid()}`, 'video-a-1'),
      // A container restarts its worker as the same pid: what that pid owns now is from before.
      previousLife: path.join(root, `pid-${process.pid}`, 'video-b-1'),
      live: path.join(root, `pid-${process.ppid}`, 'video-c-1'),
    };
    for (const dir of Object.values(dirs)) mkdirSync(path.join(dir, 'hls'), { recursive: true });
    expect(await sweepStaleScratch(root)).toBe(2);
    expect(existsSync(path.dirname(dirs.dead))).toBe(false);
    expect(existsSync(path.dirname(dirs.previousLife))).toBe(false);
    expect(existsSync(dirs.live)).toBe(true);
  });

  it('removes other directories only when older than any attempt runs', async () => {
    const stale = path.join(root, 'video-d-1');
    const young = path.join(root, 'video-e-1');
    mkdirSync(path.join(stale, 'hls'), { recursive: true });
    mkdirSync(young);
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    utimesSync(stale, dayAgo, dayAgo);
    expect(await sweepStaleScratch(root)).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(await sweepStaleScratch(path.join(root, 'missing'))).toBe(0);
  });
});
