import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { MediaActivities, PosterInput } from '../activities/media.ts';
import type { VideoActivities } from '../activities/videos.ts';
import { searchAttributes } from './search-attributes.ts';

export interface VideoPosterInput extends PosterInput {
  mediaTaskQueue: string;
}

/**
 * `video/<id>/poster`: the poster taken again at the time the owner chose. FFmpeg runs on the
 * media queue; the row points at the new poster only while that time is still the chosen one,
 * so of two quick changes the last one wins whichever run finishes first.
 */
export async function videoPosterWorkflow(input: VideoPosterInput): Promise<{ posterKey: string; published: boolean }> {
  const media = proxyActivities<MediaActivities>({
    taskQueue: input.mediaTaskQueue,
    // Downloads the source first (up to 5 GiB for an upload).
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
  });
  const platform = proxyActivities<VideoActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const { mediaTaskQueue: _queue, ...poster } = input;
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'extracting' }]);
  const { posterKey } = await media.extractPoster(poster);
  const { published } = await platform.publishPoster({ videoId: input.videoId, atSeconds: input.atSeconds, posterKey });
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: published ? 'published' : 'superseded' }]);
  return { posterKey, published };
}
