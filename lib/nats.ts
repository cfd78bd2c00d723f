import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats';

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
      maxAgeMs: 24 * 60 * 60 * 1000,
    },
    viewersBucket: { name: named('viewers'), ttlMs: 20_000 },
  };
}

/** Idempotent: creates what is missing, leaves what exists. */
export async function ensureJetStream(nats: Nats, subjectPrefix: string): Promise<void> {
  const { chatStream, viewersBucket } = jetStreamResources(subjectPrefix);
  const jsm = await nats.connection.jetstreamManager();
  const streamConfig = {
    name: chatStream.name,
    subjects: chatStream.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: chatStream.maxAgeMs * 1_000_000, // nanoseconds
    duplicate_window: 2 * 60 * 1_000_000_000, // lets chat nonces deduplicate retried publishes
  };
  try {
    await jsm.streams.info(chatStream.name);
  } catch {
    await jsm.streams.add(streamConfig);
  }
  await nats.connection.jetstream().views.kv(viewersBucket.name, { ttl: viewersBucket.ttlMs, history: 1 });
}
