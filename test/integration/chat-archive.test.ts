import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archiveChatEvents, findArchivedMessage, hourOf, pageArchivedChat, type ArchivableEvent } from '../../lib/chat-archive.ts';
import type { chatRetentionWorkflow } from '../../workflows/chat-retention.ts';
import { useTestContext } from '../support/context.ts';
import { withWorkers } from '../support/workers.ts';

// The Mongo (FerretDB) chat archive on its own: redelivered and reordered batches, paging
// across hour buckets, and the retention run that the daily Schedule starts.

const t = useTestContext();
const HOUR = 3_600_000;

function message(streamId: string, seq: number, storedAt: Date): ArchivableEvent {
  return { kind: 'message', streamId, seq, userId: randomUUID(), username: `u${seq}`, text: `text ${seq}`, sentAt: storedAt.toISOString(), storedAt };
}

describe('chat archive', () => {
  it('ends in the same documents whatever the redelivery and order of messages and deletions', async () => {
    const streamId = randomUUID();
    const now = new Date();
    const events = [1, 2, 3].map((seq) => message(streamId, seq, now));
    const deletion: ArchivableEvent = { kind: 'deleted', streamId, messageId: '2', deletedBy: randomUUID(), deletedAt: now.toISOString(), seq: 4, storedAt: now };
    // The deletion first (another archiver got it), then everything twice.
    await archiveChatEvents(t.ctx.mongo, [deletion]);
    await archiveChatEvents(t.ctx.mongo, events);
    await archiveChatEvents(t.ctx.mongo, [...events, deletion]);

    const page = await pageArchivedChat(t.ctx.mongo, streamId, 10);
    expect(page?.messages.map((m) => m.seq)).toEqual([1, 3]);
    expect(page?.hasMore).toBe(false);
    const deleted = await findArchivedMessage(t.ctx.mongo, streamId, 2);
    expect(deleted).toMatchObject({ text: 'text 2', deletedBy: deletion.kind === 'deleted' ? deletion.deletedBy : '' });
    expect(await t.ctx.mongo.db.collection('chat_messages').countDocuments({ streamId })).toBe(3);
  });

  it('writes a whole redelivered batch again (500 events, the archiver batch size)', { timeout: 60_000 }, async () => {
    const streamId = randomUUID();
    const now = new Date();
    const events = Array.from({ length: 500 }, (_, i) => message(streamId, i + 1, now));
    await archiveChatEvents(t.ctx.mongo, events);
    // What an archiver that died before acknowledging leaves: the same batch once more.
    await archiveChatEvents(t.ctx.mongo, events);
    expect(await t.ctx.mongo.db.collection('chat_messages').countDocuments({ streamId })).toBe(500);
  });

  it('pages back across hour buckets, skipping empty hours', async () => {
    const streamId = randomUUID();
    const base = Date.now() - 10 * HOUR;
    // Hours 0, 1 and 5 (by JetStream's clock) have messages; 2–4 have none.
    const events = [
      ...[1, 2].map((seq) => message(streamId, seq, new Date(base))),
      ...[3, 4, 5].map((seq) => message(streamId, seq, new Date(base + HOUR))),
      ...[6].map((seq) => message(streamId, seq, new Date(base + 5 * HOUR))),
    ];
    await archiveChatEvents(t.ctx.mongo, events);
    const seen: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const page = await pageArchivedChat(t.ctx.mongo, streamId, 2, before);
      seen.push(page!.messages.map((m) => m.seq));
      if (!page!.hasMore) break;
      before = page!.messages[0]!.seq;
    }
    expect(seen).toEqual([[5, 6], [3, 4], [1, 2]]);
    // An offset the archive does not hold (yet) pages from the newest hour down.
    expect((await pageArchivedChat(t.ctx.mongo, streamId, 2, 999))?.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect((await pageArchivedChat(t.ctx.mongo, streamId, 10, 4))?.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('the retention workflow deletes chat older than the retention, hour bucket by hour bucket', async () => {
    const streamId = randomUUID();
    const old = new Date(Date.now() - 40 * 24 * HOUR);
    const recent = new Date(Date.now() - 2 * HOUR);
    await archiveChatEvents(t.ctx.mongo, [message(streamId, 1, old), message(streamId, 2, old), message(streamId, 3, recent)]);
    const result = await withWorkers(
      t.ctx,
      () =>
        t.ctx.temporal.client.workflow.execute<typeof chatRetentionWorkflow>('chatRetentionWorkflow', {
          workflowId: `maintenance/chat-retention-${t.ctx.id}`,
          taskQueue: t.ctx.config.temporal.taskQueue,
          args: [{ chatDays: 30 }],
        }),
      { media: false },
    );
    expect(result.chatMessages).toBeGreaterThanOrEqual(2);
    const page = await pageArchivedChat(t.ctx.mongo, streamId, 10);
    expect(page?.messages.map((m) => m.seq)).toEqual([3]);
    const room = await t.ctx.mongo.db.collection<{ _id: string; hours: string[] }>('chat_rooms').findOne({ _id: streamId });
    expect(room?.hours).toEqual([hourOf(recent)]);
  });
});
