import type { LadderPlan } from '../workflows/plans/ladder.ts';
import { ACCEPTED_CONTAINERS } from './media-rules.ts';
import type { PosterPlan, StoryboardPlan } from './thumbnails.ts';

// FFmpeg argument lists as pure data (no I/O), so tests can assert them exactly and the
// media adapter only runs them.

export interface HlsEncodeCommand {
  args: string[];
  /** Playlist of each variant, relative to the HLS directory, in ladder order. */
  variantPlaylists: string[];
  masterPlaylist: string;
  /** The directory, relative to the HLS directory, whose segments show how far the encode is (`segmentsPercent`). */
  progressDir: string;
}

/** How the HLS muxer names each variant's segments (`-hls_segment_filename`), and how to recognise them. */
const SEGMENT_NAME = 'segment_%05d.ts';
const SEGMENT_FILE = /^segment_\d{5,}\.ts$/;

/**
 * A source on local disk and the demuxer detected for it (`formatDetectionArgs`), which must be
 * one of ACCEPTED_CONTAINERS. User media is only ever read this way.
 */
export interface LocalSource {
  file: string;
  format: string;
}

/**
 * Input options that keep FFmpeg inside the one local file: only the `file` protocol, only
 * self-contained container formats, the detected demuxer named explicitly so FFmpeg never
 * re-detects, and (for MP4/MOV) external data references never opened.
 */
function localInputArgs(source: LocalSource): string[] {
  return [
    '-protocol_whitelist', 'file',
    '-format_whitelist', ACCEPTED_CONTAINERS.join(','),
    '-f', source.format,
    ...(source.format === 'mov' ? ['-enable_drefs', '0'] : []),
    '-i', source.file,
  ];
}

/**
 * ffprobe arguments that only detect a file's format: every demuxer is refused by the format
 * whitelist, so FFmpeg probes the first bytes, logs the format it found, and stops before any
 * demuxer reads the file (an HLS playlist would otherwise open its segments).
 */
export function formatDetectionArgs(file: string): string[] {
  return ['-hide_banner', '-loglevel', 'debug', '-protocol_whitelist', 'file', '-format_whitelist', 'streamhub-detect-only', '-i', file];
}

/** The demuxer name in formatDetectionArgs() output (`mov,mp4,m4a,3gp,3g2,mj2`), or null when nothing matched. */
export function detectedFormat(stderr: string): string | null {
  const match = /Format (\S+) (?:probed with size=\d+ and score=\d+|detected only with low score)/.exec(stderr);
  return match?.[1] ?? null;
}

/** ffprobe arguments for the streams and format of a local source, as JSON. */
export function probeArgs(source: LocalSource): string[] {
  return ['-hide_banner', '-loglevel', 'error', ...localInputArgs(source), '-show_format', '-show_streams', '-of', 'json'];
}

/** Where the encode writes, and the thumbnails to take while the frames are decoded anyway. */
export interface EncodeTargets {
  hlsDir: string;
  thumbnails?: { poster: PosterPlan; posterFile: string; storyboard: StoryboardPlan; storyboardFile: string };
}

/**
 * One FFmpeg process for the whole ladder: the source is decoded once and split into every
 * rendition (one process per rendition took 1.34× as long here), and into the poster and
 * storyboard when asked (a second decoding pass for them added 11% to the time to publish).
 * Keyframes are forced at every segment boundary with scene-cut keyframes off, so all
 * renditions cut at the same instants and players can switch between them cleanly.
 */
export function hlsEncodeCommand(source: LocalSource, targets: EncodeTargets, plan: LadderPlan): HlsEncodeCommand {
  const args = ['-hide_banner', '-nostdin', '-y', ...localInputArgs(source)];
  const streamMap: string[] = [];
  const names: string[] = [];
  const video = plan.renditions;
  const thumbnails = video.length ? targets.thumbnails : undefined;

  if (video.length) {
    const branches = video.map((_, i) => `[s${i}]`);
    const chains = video.map((r, i) => `[s${i}]fps=${r.fps},scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p[v${i}]`);
    if (thumbnails) {
      const { poster, storyboard } = thumbnails;
      branches.push('[sp]', '[sb]');
      chains.push(
        `[sp]select=gte(t\\,${poster.atSeconds.toFixed(3)}),scale=${poster.width}:${poster.height}[poster]`,
        `[sb]fps=1/${storyboard.intervalSeconds},scale=${storyboard.tileWidth}:${storyboard.tileHeight},tile=${storyboard.columns}x${storyboard.rows}[storyboard]`,
      );
    }
    args.push('-filter_complex', `[0:v:0]split=${branches.length}${branches.join('')};${chains.join(';')}`);
    const gop = Math.round(video[0]!.fps * plan.segmentSeconds);
    video.forEach((r, i) => {
      args.push('-map', `[v${i}]`);
      args.push(`-b:v:${i}`, `${r.videoKbps}k`, `-maxrate:v:${i}`, `${r.maxrateKbps}k`, `-bufsize:v:${i}`, `${r.bufsizeKbps}k`);
      if (plan.audio) args.push('-map', '0:a:0');
      streamMap.push(plan.audio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`);
      names.push(r.name);
    });
    args.push(
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
      '-force_key_frames', `expr:gte(t,n_forced*${plan.segmentSeconds})`,
    );
  } else if (plan.audio) {
    args.push('-map', '0:a:0');
    streamMap.push('a:0,name:audio');
    names.push('audio');
  }
  if (plan.audio) {
    args.push('-c:a', 'aac', '-b:a', `${plan.audio.kbps}k`, '-ac', String(plan.audio.channels), '-ar', String(plan.audio.sampleRate));
  }
  const dir = targets.hlsDir;
  args.push(
    '-f', 'hls',
    '-hls_time', String(plan.segmentSeconds),
    '-hls_playlist_type', 'vod',
    '-hls_flags', 'independent_segments',
    '-hls_segment_filename', `${dir}/%v/${SEGMENT_NAME}`,
    '-master_pl_name', 'master.m3u8',
    '-var_stream_map', streamMap.join(' '),
    '-progress', 'pipe:1', '-nostats',
    `${dir}/%v/index.m3u8`,
  );
  if (thumbnails) {
    args.push('-map', '[poster]', '-frames:v', '1', '-q:v', '3', thumbnails.posterFile);
    args.push('-map', '[storyboard]', '-frames:v', '1', '-q:v', '5', thumbnails.storyboardFile);
  }
  return { args, variantPlaylists: names.map((n) => `${n}/index.m3u8`), masterPlaylist: 'master.m3u8', progressDir: names[0] ?? '' };
}

/**
 * One poster frame from a local source: `-ss` before the input seeks to the keyframe before
 * the time and decodes up to it, so the frame is exact without decoding the whole start.
 */
export function posterCommand(source: LocalSource, poster: PosterPlan, outFile: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-y',
    '-ss', poster.atSeconds.toFixed(3),
    ...localInputArgs(source),
    '-map', '0:v:0', '-frames:v', '1',
    '-vf', `scale=${poster.width}:${poster.height}`,
    '-q:v', '3', outFile,
  ];
}

/**
 * One poster frame from a short HLS segment of the video's own encode. The seek is on the
 * output side: FFmpeg decodes from the segment's start (a few seconds at most) and keeps the
 * frame at `atSeconds` into it. Seeking on the input finds nothing in an MPEG-TS segment whose
 * timestamps continue from the segments before it (measured with FFmpeg 5.1: "Output file is
 * empty").
 */
export function segmentPosterCommand(segment: LocalSource, poster: PosterPlan, outFile: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-y',
    ...localInputArgs(segment),
    '-ss', poster.atSeconds.toFixed(3),
    '-map', '0:v:0', '-frames:v', '1',
    '-vf', `scale=${poster.width}:${poster.height}`,
    '-q:v', '3', outFile,
  ];
}

/** Height of a live stream's thumbnail; smaller sources keep theirs. */
export const LIVE_THUMBNAIL_HEIGHT = 360;

/**
 * A live stream's thumbnail: the first frame of one of its HLS segments (each begins on a
 * keyframe, so nothing before it is decoded), at most LIVE_THUMBNAIL_HEIGHT high.
 */
export function liveThumbnailCommand(segment: LocalSource, outFile: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-y',
    ...localInputArgs(segment),
    '-map', '0:v:0', '-frames:v', '1',
    '-vf', `scale=-2:min(${LIVE_THUMBNAIL_HEIGHT}\\,ih)`,
    '-q:v', '4', outFile,
  ];
}

/**
 * Percent done of an hlsEncodeCommand() run, from one line of its `-progress` output; pure.
 * Video encodes count frames of the first rendition: FFmpeg's `out_time` is the furthest
 * of all outputs, and the storyboard's tiles carry timestamps past the end of the video.
 * Audio-only encodes have no frames and use `out_time_us`.
 */
export function progressPercent(progressLine: string, plan: LadderPlan, durationSeconds: number): number | undefined {
  if (!(durationSeconds > 0)) return undefined;
  const first = plan.renditions[0];
  const match = first ? /^frame=(\d+)$/.exec(progressLine.trim()) : /^out_time_us=(\d+)$/.exec(progressLine.trim());
  if (!match) return undefined;
  const done = first ? Number(match[1]) / (durationSeconds * first.fps) : Number(match[1]) / 1e6 / durationSeconds;
  return Math.max(0, Math.min(100, Math.floor(done * 100)));
}

/**
 * Percent done of an hlsEncodeCommand() run from the files in its `progressDir`: every segment
 * started but the last, which is still being written; pure. FFmpeg holds back its first
 * `-progress` report until every output has started, and the storyboard's starts only when the
 * last frame is in, so with thumbnails `-progress` says nothing until the encode is done
 * (measured with FFmpeg 5.1): the segments the HLS muxer writes as it goes are the progress.
 */
export function segmentsPercent(fileNames: string[], plan: LadderPlan, durationSeconds: number): number | undefined {
  if (!(durationSeconds > 0)) return undefined;
  const started = fileNames.filter((name) => SEGMENT_FILE.test(name)).length;
  const done = (Math.max(started - 1, 0) * plan.segmentSeconds) / durationSeconds;
  return Math.max(0, Math.min(100, Math.floor(done * 100)));
}

export interface ConcatCommand {
  args: string[];
  /** What the caller writes to `listFile` before running `args`. */
  list: string;
}

/**
 * Joins `inputs` into one file with FFmpeg's concat demuxer, copying the streams (no re-encode).
 * Paths are single-quoted in the list, a quote inside one written as '\'' (ffmpeg-utils "Quoting and escaping").
 */
export function concatCommand(inputs: string[], listFile: string, output: string): ConcatCommand {
  return {
    args: ['-hide_banner', '-nostdin', '-y', '-f', 'concat', '-safe', '0', '-i', listFile, '-c', 'copy', '-progress', 'pipe:1', '-nostats', output],
    list: inputs.map((f) => `file '${f.replaceAll("'", "'\\''")}'`).join('\n'),
  };
}
