import { heartbeat } from '@temporalio/activity';
import { purgeChatBefore } from '../lib/chat-archive.ts';
import type { Mongo } from '../lib/mongo.ts';

export function createChatActivities(deps: { mongo: Mongo }) {
  return {
    /** Deletes archived chat older than `chatDays`, a whole hour bucket at a time. */
    async purgeArchivedChat(input: { chatDays: number }): Promise<{ chatMessages: number }> {
      const cutoff = new Date(Date.now() - input.chatDays * 24 * 60 * 60 * 1000);
      const chatMessages = await purgeChatBefore(deps.mongo, cutoff, (deleted) => heartbeat(deleted));
      return { chatMessages };
    },
  };
}

export type ChatActivities = ReturnType<typeof createChatActivities>;
