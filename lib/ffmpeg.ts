import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// The one module that runs FFmpeg binaries. Later media work (probe, encode, thumbnails)
// goes through here too, returning the project's own types.

const run = promisify(execFile);

export interface MediaToolchain {
  ffmpeg: string;
  ffprobe: string;
}

async function firstLineOf(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['-hide_banner', '-version'], { timeout: 10_000 });
  return stdout.split('\n')[0]?.trim() ?? '';
}

export async function readMediaToolchain(paths = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }): Promise<MediaToolchain> {
  const [ffmpeg, ffprobe] = await Promise.all([firstLineOf(paths.ffmpeg), firstLineOf(paths.ffprobe)]);
  return { ffmpeg, ffprobe };
}
