import { displaySize, type MediaInfo } from './media-info.ts';

// The adaptive-bitrate ladder for one source: pure, so the workflow, the encode activity
// and the tests all agree on it. Rules (DESIGN.md §4): never upscale, keep the source rung,
// even dimensions, portrait planned by its short side, fps capped at 60, audio-only and
// video-only sources.

export const LADDER_RUNGS = [1080, 720, 480, 360] as const;
export const MAX_FPS = 60;
export const SEGMENT_SECONDS = 4;

/** kbps at 30 fps for a rung's short side; other sizes scale with the pixel count. */
const REFERENCE_KBPS = { 1080: 5000, 720: 2800, 480: 1400, 360: 800 } as const;
const REFERENCE_PIXELS = 1920 * 1080;
const MIN_VIDEO_KBPS = 200;
/** High frame rates need more bits, but far less than proportionally (motion compensation). */
const HIGH_FPS_FACTOR = 1.5;

export interface VideoRendition {
  name: string; // "1080p", "720p60" …
  width: number;
  height: number;
  fps: number;
  videoKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
}

export interface AudioRendition {
  codec: 'aac';
  kbps: number;
  channels: 1 | 2;
  sampleRate: 48000 | 44100;
}

export interface LadderPlan {
  kind: 'video+audio' | 'video-only' | 'audio-only';
  renditions: VideoRendition[];
  audio: AudioRendition | null;
  /** GOP length in frames for each rendition's fps: one keyframe per segment boundary. */
  segmentSeconds: number;
}

export class UnplayableMediaError extends Error {
  override name = 'UnplayableMediaError';
}

/** Nearest even number (H.264 4:2:0 needs even sizes), never above `limit`'s even floor. */
const even = (n: number, limit: number) => Math.max(2, Math.min(Math.round(n / 2) * 2, Math.floor(limit / 2) * 2));

/** The table value for a standard rung; any other size scales the 1080p value by its pixel count. */
function videoKbpsFor(width: number, height: number, fps: number): number {
  const table = (REFERENCE_KBPS as Record<number, number>)[Math.min(width, height)];
  const base = table ?? (REFERENCE_KBPS[1080] * width * height) / REFERENCE_PIXELS;
  return Math.round(base * (fps > 30 ? HIGH_FPS_FACTOR : 1));
}

export function planLadder(info: MediaInfo): LadderPlan {
  const audio: AudioRendition | null = info.audio
    ? {
        codec: 'aac',
        kbps: info.audio.channels >= 2 ? 128 : 96,
        channels: info.audio.channels >= 2 ? 2 : 1,
        sampleRate: info.audio.sampleRate === 44100 ? 44100 : 48000,
      }
    : null;

  if (!info.video) {
    if (!audio) throw new UnplayableMediaError('The file has neither a video nor an audio stream');
    return { kind: 'audio-only', renditions: [], audio, segmentSeconds: SEGMENT_SECONDS };
  }

  const { width, height } = displaySize(info.video);
  if (width < 16 || height < 16) throw new UnplayableMediaError(`The video is too small to play (${width}×${height})`);
  if (!(info.video.fps > 0)) throw new UnplayableMediaError('The video has no usable frame rate');

  const portrait = height > width;
  const sourceShort = portrait ? width : height;
  const sourceLong = portrait ? height : width;
  const fps = Math.min(MAX_FPS, Math.round(info.video.fps * 100) / 100);
  const shortSides = [...new Set([sourceShort, ...LADDER_RUNGS.filter((rung) => rung < sourceShort)])];
  const sourceKbps = info.video.bitrateKbps ?? (info.bitrateKbps && info.audio ? info.bitrateKbps - 128 : info.bitrateKbps);

  const renditions = shortSides.map((short): VideoRendition => {
    const long = (sourceLong * short) / sourceShort;
    const w = even(portrait ? short : long, width);
    const h = even(portrait ? long : short, height);
    let kbps = videoKbpsFor(w, h, fps);
    // Re-encoding cannot add detail the source does not have.
    if (sourceKbps && sourceKbps > 0) kbps = Math.min(kbps, Math.max(MIN_VIDEO_KBPS, Math.round(sourceKbps)));
    kbps = Math.max(MIN_VIDEO_KBPS, kbps);
    const label = `${Math.min(w, h)}p${fps > 30 ? Math.round(fps) : ''}`;
    return { name: label, width: w, height: h, fps, videoKbps: kbps, maxrateKbps: Math.round(kbps * 1.07), bufsizeKbps: kbps * 2 };
  });

  return { kind: audio ? 'video+audio' : 'video-only', renditions, audio, segmentSeconds: SEGMENT_SECONDS };
}
