import type { StoredChatEvent } from './chat.ts';
import type { ChatBadge } from './realtime-contract.ts';
import type { Mongo } from './mongo.ts';

// The chat archive in Mongo. Every read is by equality, because FerretDB (v1) sorts and
// range-filters in memory over everything the equality part matched: messages are grouped
// in hour buckets per room (`bucket`), and each room lists its buckets, so a page reads one
// or a few hours of one room, never the whole room.

export interface ArchivedMessage {
  _id: string;
  streamId: string;
  seq: number;
  hour?: string;
  bucket?: string;
  userId?: string;
  username?: string;
  text?: string;
  /** As shown when it was sent; absent on messages archived before badges existed. */
  badges?: ChatBadge[];
  sentAt?: Date;
  deletedAt?: Date;
  deletedBy?: string;
}

interface ChatRoomDoc {
  _id: string;
  hours: string[];
}

const collections = (mongo: Mongo) => ({
  messages: mongo.db.collection<ArchivedMessage>('chat_messages'),
  rooms: mongo.db.collection<ChatRoomDoc>('chat_rooms'),
});

const archivedMessageId = (streamId: string, seq: number | string) => `${streamId}:${seq}`;

export function findArchivedMessage(mongo: Mongo, streamId: string, seq: number): Promise<ArchivedMessage | null> {
  return collections(mongo).messages.findOne({ _id: archivedMessageId(streamId, seq) });
}

/** `2026-11-25T13`: the hour bucket of a time, in UTC. */
export const hourOf = (at: Date) => at.toISOString().slice(0, 13);

export async function ensureChatArchiveIndexes(mongo: Mongo): Promise<void> {
  await collections(mongo).messages.createIndex({ bucket: 1 });
}

const WRITES_PER_COMMAND = 100;

/** A stored event and when JetStream stored it. */
export type ArchivableEvent = StoredChatEvent & { storedAt: Date };

/**
 * Writes a batch of stored events. Idempotent and order-free: a message and the marker that
 * deletes it set disjoint fields of the same document, so redelivery, several archivers and
 * either arrival order all end in the same document.
 */
export async function archiveChatEvents(mongo: Mongo, events: ArchivableEvent[]): Promise<void> {
  if (!events.length) return;
  const { messages, rooms } = collections(mongo);
  const roomHours = new Map<string, Set<string>>();
  const writes = events.map((event) => {
    if (event.kind === 'deleted') {
      return {
        updateOne: {
          filter: { _id: archivedMessageId(event.streamId, event.messageId) },
          update: { $set: { streamId: event.streamId, seq: Number(event.messageId), deletedAt: new Date(event.deletedAt), deletedBy: event.deletedBy } },
          upsert: true,
        },
      };
    }
    const sentAt = new Date(event.sentAt);
    // JetStream's clock, not the sending gateway's: the buckets then follow sequence order.
    const hour = hourOf(event.storedAt);
    roomHours.set(event.streamId, (roomHours.get(event.streamId) ?? new Set()).add(hour));
    const { streamId, seq, userId, username, text } = event;
    const badges = event.badges ?? [];
    return {
      updateOne: {
        filter: { _id: archivedMessageId(streamId, seq) },
        update: { $set: { streamId, seq, hour, bucket: `${streamId}:${hour}`, userId, username, text, badges, sentAt } },
        upsert: true,
      },
    };
  });
  // FerretDB v1 (the local stack's Mongo) never answers one update command of more than 100
  // statements that match existing documents, which is what a redelivered batch is (measured:
  // 100 take 0.1 s, 101 hang for good). Chunks of 100 cost MongoDB a few round trips.
  for (let i = 0; i < writes.length; i += WRITES_PER_COMMAND) {
    await messages.bulkWrite(writes.slice(i, i + WRITES_PER_COMMAND), { ordered: false });
  }
  for (const [streamId, hours] of roomHours) {
    await rooms.updateOne({ _id: streamId }, { $addToSet: { hours: { $each: [...hours] } } }, { upsert: true });
  }
}

/**
 * Up to `limit` messages of a room older than offset `before` (or the newest), oldest first,
 * without deleted ones; `hasMore` says whether older ones exist. `before` is usually an
 * archived message (then the walk starts at its hour); any other offset works too, from the
 * newest hour (e.g. a live message the archive has not reached yet).
 */
export async function pageArchivedChat(mongo: Mongo, streamId: string, limit: number, before?: number) {
  const { messages, rooms } = collections(mongo);
  const fromHour = before === undefined ? undefined : (await findArchivedMessage(mongo, streamId, before))?.hour;
  const room = await rooms.findOne({ _id: streamId });
  const hours = (room?.hours ?? []).filter((h) => !fromHour || h <= fromHour).sort().reverse();
  const found: ArchivedMessage[] = [];
  for (const hour of hours) {
    const rows = await messages
      .find({ bucket: `${streamId}:${hour}`, deletedAt: { $exists: false }, ...(before !== undefined ? { seq: { $lt: before } } : {}) })
      .sort({ seq: -1 })
      .limit(limit + 1 - found.length)
      .toArray();
    found.push(...rows);
    if (found.length > limit) break;
  }
  return { messages: found.slice(0, limit).reverse(), hasMore: found.length > limit };
}

/** Deletes the hour buckets that ended before `cutoff`, room by room, by equality. */
export async function purgeChatBefore(mongo: Mongo, cutoff: Date, onProgress: (deleted: number) => void = () => {}): Promise<number> {
  const { messages, rooms } = collections(mongo);
  const cutoffHour = hourOf(cutoff);
  let deleted = 0;
  for await (const room of rooms.find({})) {
    const old = room.hours.filter((h) => h < cutoffHour);
    if (!old.length) continue;
    const result = await messages.deleteMany({ bucket: { $in: old.map((h) => `${room._id}:${h}`) } });
    deleted += result.deletedCount;
    await rooms.updateOne({ _id: room._id }, { $pullAll: { hours: old } });
    // Only if no archiver added an hour meanwhile.
    await rooms.deleteOne({ _id: room._id, hours: { $size: 0 } });
    onProgress(deleted);
  }
  return deleted;
}

/**
 * How many messages a room's archive holds (deleted ones included: they were sent), counted
 * hour bucket by hour bucket, by equality. Messages the archiver has not reached are not in it yet.
 */
export async function countArchivedMessages(mongo: Mongo, streamId: string): Promise<number> {
  const { messages, rooms } = collections(mongo);
  const room = await rooms.findOne({ _id: streamId });
  let count = 0;
  // A deletion marker that arrived before its message has no `sentAt`.
  for (const hour of room?.hours ?? []) count += await messages.countDocuments({ bucket: `${streamId}:${hour}`, sentAt: { $exists: true } });
  return count;
}
