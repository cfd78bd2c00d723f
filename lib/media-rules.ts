import { displaySize, type MediaInfo } from '../workflows/plans/media-info.ts';

// What StreamHub agrees to read from user media, as pure rules: which container formats
// FFmpeg may open, and how much decoding one upload may cost. The FFmpeg adapter and the
// media activities enforce them; tests pin them.

/**
 * FFmpeg demuxers for self-contained media files. Each reads only the bytes of the file it is
 * given. Left out on purpose: playlists and manifests (hls, dash, webm_dash_manifest), lists
 * of other inputs (concat), session descriptions (sdp, rtsp), image sequences and single
 * images (image2, *_pipe), text (tty), and every other demuxer that opens further resources.
 */
export const ACCEPTED_CONTAINERS = [
  'mov', // MP4, MOV, M4A, 3GP
  'matroska', // MKV, WebM
  'avi',
  'flv',
  'live_flv',
  'mpegts',
  'mpeg',
  'ogg',
  'asf', // WMV, WMA
  'wav',
  'mp3',
  'flac',
  'aac',
  'ac3',
  'eac3',
  'aiff',
] as const;

/** Said to people whose file was refused. */
const ACCEPTED_EXAMPLES = 'MP4, MOV, MKV, WebM, AVI, FLV, MPEG-TS, Ogg, WMV, MP3, WAV or FLAC';

/**
 * The demuxer to pass to FFmpeg as `-f` for a format FFmpeg detected (its demuxer name, e.g.
 * `mov,mp4,m4a,3gp,3g2,mj2`), or null when that format is not accepted.
 */
export function acceptedContainer(detected: string): string | null {
  const names = detected.split(',');
  return ACCEPTED_CONTAINERS.find((accepted) => names.includes(accepted)) ? names[0]! : null;
}

const REFUSED_KINDS: [RegExp, string][] = [
  [/^hls$/, 'an HLS playlist'],
  [/^(dash|webm_dash_manifest)$/, 'a streaming manifest'],
  [/^concat$/, 'a list of other files (FFmpeg concat)'],
  [/^(sdp|rtsp|rtp)$/, 'a network session description (SDP)'],
  [/^image2|_pipe$/, 'an image or an image sequence'],
  [/^tty$/, 'a text file'],
];

/** Why a file in a detected but refused format cannot be a video. */
export function refusedContainerReason(detected: string): string {
  const name = detected.split(',')[0]!;
  const kind = REFUSED_KINDS.find(([pattern]) => pattern.test(name))?.[1] ?? `in the "${name}" format`;
  return `Not an accepted video or audio file: this file is ${kind}, which is not accepted; upload the video itself as one file (${ACCEPTED_EXAMPLES})`;
}

/** Readable media that StreamHub refuses to process: wrong kind of file, or over a cost limit. */
export class MediaRefusedError extends Error {
  override name = 'MediaRefusedError';
}

/** Maxima on what one source may cost to decode (the MEDIA_MAX_* settings; defaults in lib/config.ts). */
export interface MediaLimits {
  maxDurationSeconds: number;
  /** Long and short side of the largest accepted frame, whatever its orientation. */
  maxWidth: number;
  maxHeight: number;
  maxFps: number;
  /** Decoded pixels per second: width × height × frame rate. */
  maxPixelsPerSecond: number;
}

/** "12 h", "1 h 30 min", "45 s": durations as people read them. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.ceil(totalSeconds);
  const parts = [
    [Math.floor(seconds / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}`);
  return shown.length ? shown.join(' ') : '0 s';
}

const rounded = (fps: number) => String(Math.round(fps * 100) / 100);

/**
 * The first limit this source is over, as a reason a person understands, or null when it is
 * within all of them. Pure: checked before any encoding starts.
 */
export function mediaLimitViolation(info: MediaInfo, limits: MediaLimits): string | null {
  if (info.durationSeconds > limits.maxDurationSeconds) {
    return `The file is ${formatDuration(info.durationSeconds)} long; videos may be at most ${formatDuration(limits.maxDurationSeconds)}`;
  }
  if (!info.video) return null;
  const { width, height } = displaySize(info.video);
  const [long, short] = [Math.max(width, height), Math.min(width, height)];
  const [maxLong, maxShort] = [Math.max(limits.maxWidth, limits.maxHeight), Math.min(limits.maxWidth, limits.maxHeight)];
  if (long > maxLong || short > maxShort) {
    return `The video is ${width}×${height}; videos may be at most ${maxLong}×${maxShort} (either orientation)`;
  }
  const { fps } = info.video;
  if (fps > limits.maxFps) return `The video runs at ${rounded(fps)} frames per second; at most ${rounded(limits.maxFps)} are accepted`;
  const pixelsPerSecond = width * height * fps;
  if (pixelsPerSecond > limits.maxPixelsPerSecond) {
    return `The video is ${width}×${height} at ${rounded(fps)} frames per second, ${Math.round(pixelsPerSecond).toLocaleString('en-US')} pixels per second; at most ${limits.maxPixelsPerSecond.toLocaleString('en-US')} are accepted`;
  }
  return null;
}
