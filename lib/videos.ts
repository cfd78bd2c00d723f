import type { Nats } from './nats.ts';
import type { VideoStatus, VideoVisibility } from './schema.ts';

// Where a video's objects live in S3 and how its progress is announced. One place, so the
// encoder, the API and the cleanup agree.

/** `subscribers`: listed on its channel, played only to the owner, admins and the channel's subscribers with perks. */
export const VIDEO_VISIBILITIES = ['public', 'unlisted', 'private', 'subscribers'] as const satisfies readonly VideoVisibility[];

/** Where an upload URL writes. Never read by the encoder: a URL can still write there after `complete`. */
export function uploadSourcePath(videoId: string): string {
  return `uploads/${videoId}/source`;
}

/** The copy of an upload the transcode checks and encodes; no upload URL can write this key. */
export function pinnedSourcePath(videoId: string): string {
  return `sources/${videoId}/source`;
}

export function videoPaths(videoId: string) {
  const root = `videos/${videoId}/`;
  return {
    /** Everything derived from the source; removed as a whole. */
    root,
    hls: `${root}hls`,
    master: `${root}hls/master.m3u8`,
    thumbnails: `${root}thumbnails`,
    poster: `${root}thumbnails/poster.jpg`,
    /** A poster the owner chose the time of: a new key per time, so caches never show the old one. */
    posterAt: (seconds: number) => `${root}thumbnails/poster-${Math.round(seconds * 1000)}ms.jpg`,
    storyboardImage: `${root}thumbnails/storyboard.jpg`,
    storyboardVtt: `${root}thumbnails/storyboard.vtt`,
  };
}

/** Payload of `video.<id>.progress`, forwarded by the realtime gateway to the owner. */
export interface VideoProgressMessage {
  videoId: string;
  percent: number;
  status: VideoStatus;
}

export function videoProgressSubject(nats: Nats, videoId: string): string {
  return nats.subject(`video.${videoId}.progress`);
}

export function publishVideoProgress(nats: Nats, message: VideoProgressMessage): void {
  nats.connection.publish(videoProgressSubject(nats, message.videoId), JSON.stringify(message));
}
