import type { Client } from '@temporalio/client';

/**
 * Deletes every Schedule in a provisioning test's own namespace: provisioning creates all of the
 * platform's, and any left behind keeps starting workflows there that nothing runs.
 */
export async function deleteAllSchedules(client: Client): Promise<void> {
  const ids: string[] = [];
  for await (const schedule of client.schedule.list()) ids.push(schedule.scheduleId);
  for (const id of ids) await client.schedule.getHandle(id).delete().catch(() => {});
}
