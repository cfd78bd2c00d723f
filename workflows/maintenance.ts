import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities, PurgeResult } from '../activities/maintenance.ts';
import type { VideoActivities } from '../activities/videos.ts';

const activities = proxyActivities<MaintenanceActivities & Pick<VideoActivities, 'purgeAbandonedUploads'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes' },
});

/**
 * Run daily by the `maintenance-retention` Schedule (FerretDB has no TTL indexes and
 * Postgres none at all): read notifications past their retention, expired token
 * blacklist entries, old sessions and stale rate-limit counters, and uploads that were
 * never completed (8 days: longer than any upload URL lives), and counted views older than
 * VIEW_RETENTION_DAYS.
 */
export async function retentionWorkflow(input: { readNotificationDays: number; viewDays?: number }): Promise<PurgeResult & { abandonedUploads: number }> {
  const records = await activities.purgeExpiredRecords(input);
  const uploads = await activities.purgeAbandonedUploads({ olderThanHours: 8 * 24 });
  return { ...records, ...uploads };
}
