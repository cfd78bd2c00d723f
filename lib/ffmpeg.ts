import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { UnplayableMediaError } from '../workflows/plans/ladder.ts';
import type { MediaInfo, VideoStreamInfo } from '../workflows/plans/media-info.ts';
import { detectedFormat, formatDetectionArgs, probeArgs, type LocalSource } from './ffmpeg-commands.ts';
import { acceptedContainer, MediaRefusedError, refusedContainerReason } from './media-rules.ts';

// The one module that runs FFmpeg binaries, returning the project's own types. User media is
// only ever read from a local file, through the argument builders in ffmpeg-commands.ts.

const run = promisify(execFile);

/** Keeps URLs (and their signatures) out of messages users and operators see. */
const hideUrls = (text: string) => text.replace(/https?:\/\/\S+/g, '<url>');

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

/** The parts of ffprobe's JSON report this module reads. */
interface ProbedStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  sample_fmt?: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}

interface ProbeReport {
  streams?: ProbedStream[];
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
}

function frameRate(stream: ProbedStream): number {
  for (const rate of [stream.avg_frame_rate, stream.r_frame_rate]) {
    const [num, den] = String(rate ?? '').split('/').map(Number);
    if (num && den) return num / den;
  }
  return 0;
}

function rotationOf(stream: ProbedStream): VideoStreamInfo['rotation'] {
  const tag = Number(stream.tags?.rotate ?? NaN);
  const sideData = stream.side_data_list?.find((d) => d.rotation !== undefined);
  const degrees = Number.isFinite(tag) ? tag : -(sideData?.rotation ?? 0);
  const normalised = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return normalised as VideoStreamInfo['rotation'];
}

/**
 * Converts ffprobe's report into MediaInfo. Pure. A stream ffprobe found but could not read
 * the parameters of (no pixel or sample format) would fail the encode: it is refused here,
 * e.g. an MP4 whose samples are kept in another file (an external data reference).
 */
function toMediaInfo(data: ProbeReport): MediaInfo {
  const streams = data.streams ?? [];
  // Cover art in audio files arrives as a one-frame "video" stream; it is not video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  if ((video && !video.pix_fmt) || (audio && !audio.sample_fmt)) {
    throw new UnplayableMediaError(
      `Not a readable audio or video file (its ${video && !video.pix_fmt ? 'video' : 'audio'} stream cannot be decoded; the file may be damaged or keep its media in another file)`,
    );
  }
  return {
    formatName: data.format?.format_name ?? 'unknown',
    durationSeconds: Number(data.format?.duration) || 0,
    sizeBytes: Number(data.format?.size) || 0,
    bitrateKbps: kbps(data.format?.bit_rate),
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

/** The last line of an FFmpeg error output without the file name it starts with. */
function lastReason(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
  return hideUrls(line.replace(/^.*?: /, ''));
}

const unreadable = (reason: string) => new UnplayableMediaError(`Not a readable audio or video file${reason ? ` (${reason})` : ''}`);

/**
 * The demuxer to read a local file with (for `-f`), detected without letting any demuxer
 * read it. A format outside ACCEPTED_CONTAINERS is a MediaRefusedError naming what the file
 * is; a file FFmpeg recognises as nothing is an UnplayableMediaError.
 */
export async function detectContainer(file: string): Promise<string> {
  // Detection always "fails" (no demuxer is allowed): the answer is in the log.
  const stderr = await run('ffprobe', formatDetectionArgs(file), { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }).then(
    ({ stderr: text }) => text,
    (err: { stderr?: string; killed?: boolean }) => {
      // Killed by the timeout (a starved machine): worth another attempt, unlike bad media.
      if (typeof err.stderr !== 'string' || err.killed) throw err;
      return err.stderr;
    },
  );
  const detected = detectedFormat(stderr);
  if (!detected) throw unreadable(lastReason(stderr));
  const format = acceptedContainer(detected);
  if (!format) throw new MediaRefusedError(refusedContainerReason(detected));
  return format;
}

/**
 * Probes a local file: its format first (detectContainer), then its streams with only that
 * demuxer and only local reads allowed. Anything ffprobe cannot read is an
 * UnplayableMediaError with a readable reason.
 */
export async function probeMedia(file: string): Promise<MediaInfo> {
  const source: LocalSource = { file, format: await detectContainer(file) };
  const { stdout } = await run('ffprobe', probeArgs(source), { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { stderr?: string; killed?: boolean }) => {
      if (typeof err.stderr !== 'string' || err.killed) throw err;
      throw unreadable(lastReason(err.stderr));
    },
  );
  const info = toMediaInfo(JSON.parse(stdout) as ProbeReport);
  if (!info.video && !info.audio) throw new UnplayableMediaError('The file has neither a video nor an audio stream');
  if (!(info.durationSeconds > 0)) throw new UnplayableMediaError('The file has no duration; it may be truncated');
  return info;
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
