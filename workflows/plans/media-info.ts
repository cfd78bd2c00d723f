// The project's own description of a media file, produced by the FFmpeg adapter
// (lib/ffmpeg.ts) from ffprobe and consumed by pure planners. Never ffprobe's own shape.

export interface VideoStreamInfo {
  codec: string;
  /** Coded size, before rotation. */
  width: number;
  height: number;
  /** Clockwise rotation a player applies (phones store portrait video as rotated landscape). */
  rotation: 0 | 90 | 180 | 270;
  fps: number;
  bitrateKbps: number | null;
}

export interface AudioStreamInfo {
  codec: string;
  channels: number;
  sampleRate: number;
  bitrateKbps: number | null;
}

export interface MediaInfo {
  formatName: string;
  durationSeconds: number;
  sizeBytes: number;
  bitrateKbps: number | null;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
}

/** Width and height as a viewer sees them, after rotation. */
export function displaySize(video: Pick<VideoStreamInfo, 'width' | 'height' | 'rotation'>): { width: number; height: number } {
  return video.rotation === 90 || video.rotation === 270 ? { width: video.height, height: video.width } : { width: video.width, height: video.height };
}
