import { AckPolicy, connect, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';

export type { NatsConnection };

export interface Nats {
  connection: NatsConnection;
  /** Prefixes a subject so that tests and several stacks can share one NATS server. */
  subject(name: string): string;
}

export async function connectNats(options: { url: string; subjectPrefix: string; name: string }): Promise<Nats> {
  const connection = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    timeout: 5000,
  });
  return { connection, subject: (name) => `${options.subjectPrefix}${name}` };
}

/**
 * The JetStream manager for per-request reads. nats.js otherwise asks the server whether
 * JetStream is on every time one is made, an extra round trip on each chat read.
 */
export function jetStreamManager(nats: Nats) {
  return nats.connection.jetstreamManager({ checkAPI: false });
}

/**
 * A KV bucket's keys (a deleted key's too, until its marker expires: read them with `kv.get`), from
 * the per-subject state of its stream in one request. Not `kv.keys()`: its ordered consumer ends
 * only on an entry delivered with nothing pending, so an entry that expires (the bucket's TTL)
 * between the consumer's creation and its delivery leaves the listing waiting forever. Under
 * put/delete churn on a 1 s TTL that was about one listing in a hundred (nats-server#3481).
 */
export async function bucketKeys(jsm: JetStreamManager, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

export async function pingNats(nats: Nats): Promise<void> {
  if (nats.connection.isClosed()) throw new Error('connection closed');
  await nats.connection.flush();
}

/** JetStream streams and KV buckets the platform uses, named so a subject prefix gets its own set. */
export function jetStreamResources(subjectPrefix: string) {
  const tag = subjectPrefix.replace(/\.$/, '').replace(/[^A-Za-z0-9_-]/g, '_');
  const named = (base: string) => (tag ? `${tag}_${base}` : base);
  return {
    chatStream: {
      name: named('CHAT'),
      subjects: [`${subjectPrefix}chat.>`],
      /** Every stored event is republished here for the gateways' live delivery. */
      liveSubjects: `${subjectPrefix}chatlive.>`,
      maxAgeMs: 24 * 60 * 60 * 1000,
    },
    /** The last events of every room, sourced from CHAT: what a joining viewer is shown. */
    chatRecentStream: { name: named('CHAT_RECENT'), maxPerRoom: 200 },
    chatArchiveConsumer: 'chat-archive',
    viewersBucket: { name: named('viewers'), ttlMs: 20_000 },
    /** Chat nonces already stored (sender, stream, nonce → id): retries are answered, not re-checked. */
    chatNoncesBucket: { name: named('chat_nonces'), ttlMs: 15 * 60_000 },
  };
}

/** Every JetStream stream of a subject prefix (KV buckets are streams too), for tearing a test's or bench's set down. */
export function jetStreamNames(subjectPrefix: string): string[] {
  const { chatStream, chatRecentStream, viewersBucket, chatNoncesBucket } = jetStreamResources(subjectPrefix);
  // The sourcing stream first: it follows CHAT.
  return [chatRecentStream.name, chatStream.name, `KV_${viewersBucket.name}`, `KV_${chatNoncesBucket.name}`];
}

/** Idempotent: creates what is missing and leaves what exists, except a chat stream from before live delivery (see below). */
export async function ensureJetStream(nats: Nats, subjectPrefix: string): Promise<void> {
  const { chatStream, chatRecentStream, chatArchiveConsumer, viewersBucket, chatNoncesBucket } = jetStreamResources(subjectPrefix);
  const jsm = await nats.connection.jetstreamManager();
  const republish = { src: chatStream.subjects[0]!, dest: chatStream.liveSubjects };
  const chatConfig = {
    name: chatStream.name,
    subjects: chatStream.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: chatStream.maxAgeMs * 1_000_000, // nanoseconds
    duplicate_window: 2 * 60 * 1_000_000_000, // lets chat nonces deduplicate retried publishes
    republish,
  };
  const existing = await jsm.streams.info(chatStream.name).catch(() => undefined);
  const upToDate = existing?.config.republish?.dest === republish.dest;
  if (existing && !upToDate) {
    // A chat stream from before live delivery: JetStream cannot add a republish to it in place.
    // Nothing ever published to those, so an empty one is replaced; anything else needs a person.
    if (existing.state.messages > 0) {
      throw new Error(`JetStream stream ${chatStream.name} lacks the republish to ${republish.dest} and holds messages; archive and delete it, then provision again`);
    }
    await jsm.streams.delete(chatStream.name);
  }
  if (!upToDate) await jsm.streams.add(chatConfig);
  if (!(await jsm.streams.info(chatRecentStream.name).catch(() => undefined))) {
    await jsm.streams.add({
      name: chatRecentStream.name,
      storage: StorageType.File,
      max_msgs_per_subject: chatRecentStream.maxPerRoom,
      max_age: chatStream.maxAgeMs * 1_000_000,
      sources: [{ name: chatStream.name }],
    });
  }
  // Pulled by every gateway's archiver in turn; what no archiver acknowledged is redelivered.
  await jsm.consumers.add(chatStream.name, {
    durable_name: chatArchiveConsumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30 * 1_000_000_000,
    max_ack_pending: 20_000,
  });
  for (const bucket of [viewersBucket, chatNoncesBucket]) await nats.connection.jetstream().views.kv(bucket.name, { ttl: bucket.ttlMs, history: 1 });
}
