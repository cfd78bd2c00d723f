import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import ffmpeg, { type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg';
import { UnplayableMediaError } from '../workflows/plans/ladder.ts';
import { readsOverHttp } from './ffmpeg-commands.ts';
import type { MediaInfo, VideoStreamInfo } from '../workflows/plans/media-info.ts';

// The one module that runs FFmpeg binaries, returning the project's own types.

const run = promisify(execFile);

/** Inputs are presigned URLs; their signatures must not reach messages users and operators see. */
const hideUrls = (text: string) => text.replace(/https?:\/\/\S+/g, '<source>');

export interface MediaToolchain {
  ffmpeg: string;
  ffprobe: string;
}

async function firstLineOf(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['-hide_banner', '-version'], { timeout: 10_000 });
  return stdout.split('\n')[0]?.trim() ?? '';
}

export async function readMediaToolchain(paths = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }): Promise<MediaToolchain> {
  const [ffmpegLine, ffprobeLine] = await Promise.all([firstLineOf(paths.ffmpeg), firstLineOf(paths.ffprobe)]);
  return { ffmpeg: ffmpegLine, ffprobe: ffprobeLine };
}

const kbps = (bitsPerSecond: string | number | undefined) => {
  const n = Number(bitsPerSecond);
  return Number.isFinite(n) && n > 0 ? Math.round(n / 1000) : null;
};

function frameRate(stream: FfprobeStream): number {
  for (const rate of [stream.avg_frame_rate, stream.r_frame_rate]) {
    const [num, den] = String(rate ?? '').split('/').map(Number);
    if (num && den) return num / den;
  }
  return 0;
}

function rotationOf(stream: FfprobeStream): VideoStreamInfo['rotation'] {
  const tag = Number((stream.tags as Record<string, unknown> | undefined)?.rotate ?? NaN);
  const sideData = (stream as { side_data_list?: { rotation?: number }[] }).side_data_list?.find((d) => d.rotation !== undefined);
  const degrees = Number.isFinite(tag) ? tag : -(sideData?.rotation ?? 0);
  const normalised = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return normalised as VideoStreamInfo['rotation'];
}

/** Converts ffprobe's report into MediaInfo. Pure. */
function toMediaInfo(data: FfprobeData): MediaInfo {
  // Cover art in audio files arrives as a one-frame "video" stream; it is not video.
  const video = data.streams.find((s) => s.codec_type === 'video' && !(s.disposition as Record<string, number> | undefined)?.attached_pic);
  const audio = data.streams.find((s) => s.codec_type === 'audio');
  return {
    formatName: data.format.format_name ?? 'unknown',
    durationSeconds: Number(data.format.duration) || 0,
    sizeBytes: Number(data.format.size) || 0,
    bitrateKbps: kbps(data.format.bit_rate),
    video: video
      ? {
          codec: video.codec_name ?? 'unknown',
          width: video.width ?? 0,
          height: video.height ?? 0,
          rotation: rotationOf(video),
          fps: frameRate(video),
          bitrateKbps: kbps(video.bit_rate),
        }
      : null,
    audio: audio
      ? { codec: audio.codec_name ?? 'unknown', channels: audio.channels ?? 0, sampleRate: Number(audio.sample_rate) || 0, bitrateKbps: kbps(audio.bit_rate) }
      : null,
  };
}

// ffprobe messages that mean "could not reach the source", not "the source is bad".
const NETWORK_TROUBLE = /Connection refused|Connection timed out|timed out|Network is unreachable|Server returned 5\d\d|Input\/output error|End of file/i;

/**
 * Probes a local file or URL. Anything ffprobe cannot read is an UnplayableMediaError with a
 * readable reason, except a URL it could not reach: that is a plain Error, worth retrying.
 */
export function probeMedia(source: string): Promise<MediaInfo> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(source, (err, data) => {
      if (err) {
        const detail = String((err as Error).message).split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
        const reason = hideUrls(detail.replace(/^.*?: /, ''));
        const message = `Not a readable audio or video file${detail ? ` (${reason})` : ''}`;
        reject(readsOverHttp(source) && NETWORK_TROUBLE.test(reason) ? new Error(message) : new UnplayableMediaError(message));
        return;
      }
      const info = toMediaInfo(data);
      if (!info.video && !info.audio) reject(new UnplayableMediaError('The file has neither a video nor an audio stream'));
      else if (!(info.durationSeconds > 0)) reject(new UnplayableMediaError('The file has no duration; it may be truncated'));
      else resolve(info);
    });
  });
}

/**
 * Runs FFmpeg with the given arguments, passing each `-progress` line to `onProgressLine`.
 * Aborting the signal kills FFmpeg. Rejects with the tail of stderr when FFmpeg fails.
 */
export function runFfmpeg(args: string[], options: { onProgressLine?: (line: string) => void; signal?: AbortSignal } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    const stderr: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => options.onProgressLine?.(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      reject(new Error(`ffmpeg ${signal ? `was killed (${signal})` : `exited with ${code}`}: ${hideUrls(stderr.slice(-5).join(' | '))}`));
    });
  });
}
