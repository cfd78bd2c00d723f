import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { EarningsActivities, MaturationResult } from '../activities/earnings.ts';

const activities = proxyActivities<EarningsActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes' },
});

/**
 * Run hourly by the `earnings-maturation` Schedule: earnings held for `holdDays` become
 * available for payout. The cutoff is counted from the run's start, so a retried activity or a
 * replay uses the same one.
 */
export async function earningsMaturationWorkflow(input: { holdDays: number; currency: string }): Promise<MaturationResult> {
  const cutoff = new Date(workflowInfo().runStartTime.getTime() - input.holdDays * 24 * 60 * 60 * 1000);
  return activities.makeMaturedEarningsAvailable({ currency: input.currency, cutoff: cutoff.toISOString() });
}
