import { type Client, NamespaceNotFoundError } from '@temporalio/client';

/**
 * Deletes every Schedule in a provisioning test's own namespace: provisioning creates all of the
 * platform's, and any left behind keeps starting workflows there that nothing runs. On a fresh
 * machine the namespace does not exist until provisioning registers it, and then it holds none.
 */
export async function deleteAllSchedules(client: Client): Promise<void> {
  const ids: string[] = [];
  try {
    for await (const schedule of client.schedule.list()) ids.push(schedule.scheduleId);
  } catch (err) {
    if (err instanceof NamespaceNotFoundError) return;
    throw err;
  }
  for (const id of ids) await client.schedule.getHandle(id).delete().catch(() => {});
}
