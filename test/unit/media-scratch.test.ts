import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepStaleScratch } from '../../activities/media.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'scratch-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sweepStaleScratch', () => {
  it('removes what killed encodes left long ago and keeps directories a live encode may own', async () => {
    const stale = path.join(root, 'video-a-1');
    const live = path.join(root, 'video-b-1');
    mkdirSync(path.join(stale, 'hls'), { recursive: true });
    mkdirSync(live);
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    utimesSync(stale, dayAgo, dayAgo);
    expect(await sweepStaleScratch(root)).toBe(1);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(await sweepStaleScratch(path.join(root, 'missing'))).toBe(0);
  });
});
