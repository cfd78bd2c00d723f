import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AnalyticsActivities, AnalyticsRollupResult } from '../activities/analytics.ts';

const activities = proxyActivities<AnalyticsActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Run every five minutes by the `analytics-rollup` Schedule: creators' hour and day buckets
 * recomputed from the source rows (activities/analytics.ts). The run's start time is its `now`,
 * so a retried activity recomputes the same buckets.
 */
export async function analyticsRollupWorkflow(input: { currency: string }): Promise<AnalyticsRollupResult> {
  return activities.rollUpAnalytics({ currency: input.currency, now: workflowInfo().startTime.toISOString() });
}
