import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { publishChatEvent } from '../../lib/chat.ts';
import { jetStreamResources } from '../../lib/nats.ts';
import { useTestContext } from '../support/context.ts';
import { until } from '../support/gateway.ts';
import { spawnGatewayProcess, type ServiceProcess } from '../support/processes.ts';

// README: every gateway runs an archiver on the durable consumer `chat-archive`, writing
// batches of up to 500 to Mongo idempotently by (stream, offset); "messages the archiver had
// taken but not acknowledged at the crash come back after 30 s". Here the archiver's gateway
// process is SIGKILLed in the middle of its batches and another takes over.

const t = useTestContext();
const started: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
});

// Three batches: the first is taken by the archiver that dies.
const MESSAGES = 1200;

describe('the chat archiver killed mid-batch', () => {
  it('archives every message exactly once after a gateway process takes over', { timeout: 180_000 }, async () => {
    const streamId = randomUUID();
    const seqs: number[] = [];
    // Stored before any archiver runs.
    for (let i = 0; i < MESSAGES; i += 100) {
      const published = await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          publishChatEvent(t.ctx.nats, { kind: 'message', streamId, userId: randomUUID(), username: 'u', text: `message ${i + j}`, sentAt: new Date().toISOString() }),
        ),
      );
      seqs.push(...published.map((p) => p.seq));
    }
    const archive = t.ctx.mongo.db.collection('chat_messages');
    const archived = () => archive.countDocuments({ streamId });
    const jsm = await t.ctx.nats.connection.jetstreamManager();
    const { chatStream, chatArchiveConsumer } = jetStreamResources(t.ctx.nats.subject(''));
    const consumer = () => jsm.consumers.info(chatStream.name, chatArchiveConsumer);
    expect((await consumer()).config.ack_wait).toBe(30 * 1_000_000_000);

    const doomed = await spawnGatewayProcess(t.ctx);
    started.push(doomed);
    // Killed as soon as its first writes show: a batch is taken and not yet acknowledged.
    await until(async () => Boolean(await archive.findOne({ streamId })), 'the first archived messages', 60_000);
    await doomed.kill();
    const atCrash = await consumer();
    expect(atCrash.num_ack_pending).toBeGreaterThan(0);
    expect(await archived()).toBeLessThan(MESSAGES);

    started.push(await spawnGatewayProcess(t.ctx));
    // What was pending comes first; what the dead archiver held comes back after the ack wait.
    // (JetStream first: counting in FerretDB while the archiver writes to it slows both.)
    const drained = async () => {
      const state = await consumer();
      return state.num_ack_pending === 0 && state.num_pending === 0;
    };
    await until(drained, 'every message acknowledged', 120_000);
    expect(await archived()).toBe(MESSAGES);
    // Deliveries beyond one per message: the dead archiver's batch came back.
    expect((await consumer()).delivered.consumer_seq).toBeGreaterThan(MESSAGES);

    const docs = await archive.find({ streamId }, { projection: { _id: 0, seq: 1, text: 1 } }).toArray();
    expect(docs.map((d) => d.seq).sort((a, b) => a - b)).toEqual(seqs.sort((a, b) => a - b));
    expect(new Set(docs.map((d) => d.text)).size).toBe(MESSAGES);
  });
});
