import { proxyActivities } from '@temporalio/workflow';
import type { LiveThumbnailsResult } from '../activities/live-thumbnails.ts';
import type { MediaActivities } from '../activities/media.ts';

export interface LiveThumbnailsInput {
  mediaTaskQueue: string;
  /** Streams one run takes thumbnails of, the stalest first; the rest wait a minute. */
  maxStreams: number;
}

/**
 * Run every minute by the `live-thumbnails` Schedule: each stream on air gets a fresh
 * thumbnail from the newest segment of its live HLS, on the media queue (FFmpeg and nginx's
 * HLS directory are there). An overlapping run is skipped by the Schedule; a missed one is
 * simply the next minute's.
 */
export async function liveThumbnailsWorkflow(input: LiveThumbnailsInput): Promise<LiveThumbnailsResult> {
  const media = proxyActivities<Pick<MediaActivities, 'captureLiveThumbnails'>>({
    taskQueue: input.mediaTaskQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', maximumInterval: '30 seconds', maximumAttempts: 3 },
  });
  return media.captureLiveThumbnails({ maxStreams: input.maxStreams });
}
