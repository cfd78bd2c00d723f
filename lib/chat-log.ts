import { AckPolicy, DeliverPolicy, type JsMsg } from 'nats';
import { withTimeout } from './async.ts';
import { CHAT_RECOVERY_LIMIT, chatSubject, parseChatEvent, publishChatEvent, type StoredChatEvent } from './chat.ts';
import { jetStreamManager, jetStreamResources, type Nats } from './nats.ts';

// Reading a room's events back from JetStream: the gateway's history window and gap filling,
// and the API's purge of a timed-out or banned user's recent messages.

/** A JetStream read that takes longer than this is given up: live chat must not wait on it. */
const READ_TIMEOUT_MS = 5000;

/**
 * Reads the events of one room from `streamName` starting at `startSeq`, up to `limit`;
 * `truncated` when more were already there. A plain ephemeral consumer, not an ordered one:
 * nats.js retries an ordered consumer's creation for minutes when JetStream is unwell.
 */
export function readRoom(nats: Nats, streamName: string, streamId: string, startSeq: number, limit: number) {
  return withTimeout(
    (async () => {
      const jsm = await jetStreamManager(nats);
      const info = await jsm.consumers.add(streamName, {
        filter_subject: chatSubject(nats, streamId),
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: 30 * 1_000_000_000,
        ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
      });
      try {
        const events: StoredChatEvent[] = [];
        // What was there when the read began; events stored since come live.
        const pending = info.num_pending;
        if (!pending) return { events, truncated: false };
        const consumer = await nats.connection.jetstream().consumers.get(streamName, info.name);
        const batch = await consumer.fetch({ max_messages: Math.min(pending, limit), expires: READ_TIMEOUT_MS });
        let read = 0;
        for await (const msg of batch) {
          const event = parseChatEvent(msg.data, originalSeq(msg));
          if (event) events.push(event);
          if (++read >= Math.min(pending, limit)) break;
        }
        return { events, truncated: pending > limit };
      } finally {
        await jsm.consumers.delete(streamName, info.name).catch(() => {});
      }
    })(),
    READ_TIMEOUT_MS * 2,
    'chat history read',
  );
}

/** A message sourced into CHAT_RECENT carries its CHAT sequence (its id) in a header. */
function originalSeq(msg: JsMsg): number {
  const source = msg.headers?.get('Nats-Stream-Source');
  const seq = source ? Number(source.split(' ')[1]) : NaN;
  return Number.isFinite(seq) ? seq : msg.seq;
}


/**
 * Deletes `userId`'s messages that are still in the room's recent window (CHAT_RECENT, the
 * last 200 events: what joining viewers are shown, and whatever CHAT stored after it), each with a deletion marker through the
 * log like any deletion, so every gateway sends `chat_deleted` and the archive marks it.
 * Markers are deduplicated by message, so running it again deletes nothing twice. Returns how
 * many messages it deleted.
 */
export async function purgeRecentMessages(nats: Nats, streamId: string, userId: string, deletedBy: string): Promise<number> {
  const { chatStream, chatRecentStream } = jetStreamResources(nats.subject(''));
  const recent = await readRoom(nats, chatRecentStream.name, streamId, 1, chatRecentStream.maxPerRoom);
  // CHAT_RECENT is copied from CHAT a moment late: what was stored since comes from CHAT itself.
  const newer = await readRoom(nats, chatStream.name, streamId, (recent.events.at(-1)?.seq ?? 0) + 1, CHAT_RECOVERY_LIMIT);
  const events = [...recent.events, ...newer.events];
  const deleted = new Set(events.flatMap((e) => (e.kind === 'deleted' ? [e.messageId] : [])));
  const doomed = events.filter((e) => e.kind === 'message' && e.userId === userId && !deleted.has(String(e.seq)));
  const deletedAt = new Date().toISOString();
  for (const message of doomed) {
    const messageId = String(message.seq);
    await publishChatEvent(nats, { kind: 'deleted', streamId, messageId, deletedBy, deletedAt }, `delete:${streamId}:${messageId}`);
  }
  return doomed.length;
}
