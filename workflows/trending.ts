import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { TrendingActivities, TrendingRecomputeResult } from '../activities/trending.ts';
import type { TrendingRules } from '../lib/trending.ts';

const activities = proxyActivities<TrendingActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Run every five minutes by the `trending` Schedule with TRENDING_HALF_LIFE_HOURS and
 * TRENDING_WINDOW_HOURS. The run's start time is the scores' `now`, so a retried activity
 * writes exactly what the first attempt would have.
 */
export async function trendingWorkflow(rules: TrendingRules): Promise<TrendingRecomputeResult> {
  return activities.recomputeTrendingScores({ ...rules, now: workflowInfo().startTime.toISOString() });
}
