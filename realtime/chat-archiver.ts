import type { Consumer, JsMsg } from 'nats';
import { sleep } from '../lib/async.ts';
import { archiveChatEvents, ensureChatArchiveIndexes, type ArchivableEvent } from '../lib/chat-archive.ts';
import { parseChatEvent } from '../lib/chat.ts';
import type { Logger } from '../lib/logger.ts';
import type { Mongo } from '../lib/mongo.ts';
import { jetStreamResources, type Nats } from '../lib/nats.ts';
import type { RealtimeMetrics } from './metrics.ts';

const BATCH = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * Persists chat to Mongo from the durable `chat-archive` consumer, in batches. Every gateway
 * runs one and they share the consumer, so archiving goes on while any gateway is up. A batch
 * is acknowledged only once written; if Mongo is down, chat keeps flowing live and the
 * backlog waits in JetStream (kept 24 h) to be written when it is back.
 */
export function startChatArchiver(deps: { nats: Nats; mongo: Mongo; logger: Logger; metrics: RealtimeMetrics }) {
  const { nats, mongo, logger } = deps;
  const { chatStream, chatArchiveConsumer } = jetStreamResources(nats.subject(''));
  let stopped = false;
  let wake = () => {};
  const stopping = new Promise<void>((resolve) => (wake = resolve));

  // Looked up once (a round trip), and again after a failure.
  let consumer: Consumer | undefined;

  async function archiveOnce(): Promise<number> {
    consumer ??= await nats.connection.jetstream().consumers.get(chatStream.name, chatArchiveConsumer);
    const batch = await consumer.fetch({ max_messages: BATCH, expires: 1000 });
    const messages: JsMsg[] = [];
    for await (const msg of batch) messages.push(msg);
    const events: ArchivableEvent[] = [];
    for (const msg of messages) {
      const event = parseChatEvent(msg.data, msg.seq);
      if (event) events.push({ ...event, storedAt: new Date(msg.info.timestampNanos / 1_000_000) });
      else logger.warn({ seq: msg.seq, subject: msg.subject }, 'unreadable chat event skipped');
    }
    await archiveChatEvents(mongo, events);
    for (const msg of messages) msg.ack();
    deps.metrics.chatArchived.inc(events.length);
    return messages.length;
  }

  const done = (async () => {
    let indexed = false;
    let backoffMs = 0;
    while (!stopped) {
      try {
        if (!indexed) {
          await ensureChatArchiveIndexes(mongo);
          indexed = true;
        }
        const archived = await archiveOnce();
        if (archived) logger.debug({ archived }, 'chat archived');
        if (backoffMs) logger.info('chat archiving resumed');
        backoffMs = 0;
      } catch (err) {
        consumer = undefined;
        // Mongo or NATS is away: chat still flows live, and the backlog waits in JetStream.
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs ? backoffMs * 2 : 1000);
        logger.warn({ err: String(err), retryInMs: backoffMs }, 'chat archiving failed; retrying');
        await Promise.race([sleep(backoffMs), stopping]);
      }
    }
  })();

  return {
    async stop(): Promise<void> {
      stopped = true;
      wake();
      await done;
    },
  };
}
