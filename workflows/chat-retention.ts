import { proxyActivities } from '@temporalio/workflow';
import type { ChatActivities } from '../activities/chat.ts';

const { purgeArchivedChat } = proxyActivities<ChatActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes' },
});

/**
 * Run daily by the `maintenance-chat-retention` Schedule: archived chat older than the
 * retention goes (FerretDB has no TTL indexes; JetStream keeps live chat 24 h by itself).
 */
export async function chatRetentionWorkflow(input: { chatDays: number }): Promise<{ chatMessages: number }> {
  return purgeArchivedChat(input);
}
