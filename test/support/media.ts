import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// Test media is generated with FFmpeg at test time: small, seconds long, no binary fixtures.

const run = promisify(execFile);

export const testPattern = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`];
export const tone = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];
export const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/** A scratch directory for generated media; `remove()` in afterAll. */
export function mediaDir(name: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  return {
    dir,
    path: (file: string) => path.join(dir, file),
    async generate(file: string, args: string[]): Promise<string> {
      const out = path.join(dir, file);
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, out]);
      return out;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ProbedStream {
  codec_type: string;
  width?: number;
  height?: number;
}

export async function probeStreams(file: string): Promise<ProbedStream[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', file]);
  return JSON.parse(stdout).streams as ProbedStream[];
}

/** EXTINF durations of a media playlist. */
export const segmentDurations = (playlist: string) => [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));

/** A media file's duration in seconds as FFmpeg reads it (a path or a URL). */
export async function mediaSeconds(fileOrUrl: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', fileOrUrl]);
  return Number(stdout.trim());
}
