import { getExternalWorkflowHandle, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { VideoActivities } from '../activities/videos.ts';
import { workflowIds } from './ids.ts';
import { searchAttributes } from './search-attributes.ts';

/**
 * `video/<id>/remove`: stops a running transcode (which cleans up after itself) and removes
 * the video's row and objects. Durable, so a deletion survives S3 being down for a while.
 */
export async function videoRemovalWorkflow(input: { videoId: string }): Promise<{ objectsDeleted: number }> {
  const platform = proxyActivities<VideoActivities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  });
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'removing' }]);
  try {
    await getExternalWorkflowHandle(workflowIds.transcode(input.videoId)).cancel();
  } catch {
    // No transcode is running (finished, failed or never started): nothing to stop.
  }
  const result = await platform.removeVideo({ videoId: input.videoId });
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'removed' }]);
  return result;
}
