import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities, PurgeResult } from '../activities/maintenance.ts';

const activities = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes' },
});

/**
 * Run daily by the `maintenance-retention` Schedule (FerretDB has no TTL indexes and
 * Postgres none at all): read notifications past their retention, expired token
 * blacklist entries, old sessions and stale rate-limit counters.
 */
export async function retentionWorkflow(input: { readNotificationDays: number }): Promise<PurgeResult> {
  return activities.purgeExpiredRecords(input);
}
