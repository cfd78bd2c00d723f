import { proxyActivities } from '@temporalio/workflow';
import type { ViewActivities, ViewRollupResult } from '../activities/views.ts';

const activities = proxyActivities<ViewActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Run every minute by the `views-rollup` Schedule: counted views pending in video_views are
 * added to videos.view_count (exactly once each, see activities/views.ts), and viewers whose
 * window has passed are forgotten. Reads never wait for it: GET /videos/{id} adds the pending
 * views itself.
 */
export async function viewRollupWorkflow(input: { windowSeconds: number }): Promise<ViewRollupResult> {
  return activities.rollUpViews(input);
}
