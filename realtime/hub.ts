import type { Subscription } from 'nats';
import type { WebSocket } from 'ws';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { Nats } from '../lib/nats.ts';
import { notificationSubject } from '../lib/notifications.ts';
import { streamStatusSubject, type StreamStatusMessage } from '../lib/streams.ts';
import type { VideoProgressMessage } from '../lib/videos.ts';
import type { ServerFrame } from './frames.ts';

/** Bytes a socket may have waiting to be sent before it counts as a slow consumer. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface Client {
  socket: WebSocket;
  /** Null for anonymous viewers. */
  userId: string | null;
  /** Counts a viewer once however many tabs they open: the user, or the device for anonymous viewers. */
  viewerKey: string;
  rooms: Set<string>;
}

/**
 * Which sockets of this gateway want which NATS subjects. Subscribes a subject while at
 * least one local socket needs it, so a gateway only receives traffic for its own viewers.
 */
export function createHub(deps: { nats: Nats; db: Db; logger: Logger }) {
  const { nats, logger } = deps;
  const rooms = new Map<string, { clients: Set<Client>; sub: Subscription }>();
  const users = new Map<string, { clients: Set<Client>; sub: Subscription }>();
  const videoOwners = new Map<string, string | null>();

  /** Sends a frame, closing a socket whose queue is full instead of letting memory grow. */
  function send(client: Client, frame: ServerFrame): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      // Not close(): its handshake would queue behind the frames the client is not reading.
      socket.terminate();
      return;
    }
    socket.send(JSON.stringify(frame));
  }

  const parse = <T>(data: Uint8Array): T | undefined => {
    try {
      return JSON.parse(new TextDecoder().decode(data)) as T;
    } catch {
      return undefined;
    }
  };

  // Progress is for the video's owner; every gateway hears all of it (a few messages per
  // second per running transcode) and forwards it only to owners connected here.
  const progressSub = nats.connection.subscribe(nats.subject('video.*.progress'), {
    callback: async (_err, msg) => {
      const progress = parse<VideoProgressMessage>(msg.data);
      if (!progress) return;
      let owner = videoOwners.get(progress.videoId);
      if (owner === undefined) {
        try {
          const row = await deps.db.selectFrom('videos').select('owner_id').where('id', '=', progress.videoId).executeTakeFirst();
          owner = row?.owner_id ?? null;
        } catch (err) {
          logger.warn({ err, videoId: progress.videoId }, 'could not look up a video owner; progress not forwarded');
          return;
        }
        if (videoOwners.size > 10_000) videoOwners.clear();
        videoOwners.set(progress.videoId, owner);
      }
      for (const client of (owner && users.get(owner)?.clients) || []) {
        send(client, { type: 'progress', videoId: progress.videoId, percent: progress.percent });
      }
    },
  });

  return {
    send,
    rooms: () => rooms,

    addUser(client: Client): void {
      if (!client.userId) return;
      const entry = users.get(client.userId);
      if (entry) {
        entry.clients.add(client);
        return;
      }
      const clients = new Set([client]);
      const sub = nats.connection.subscribe(notificationSubject(nats, client.userId), {
        callback: (_err, msg) => {
          const notification = parse<Record<string, unknown>>(msg.data);
          if (notification) for (const c of clients) send(c, { type: 'notification', notification });
        },
      });
      users.set(client.userId, { clients, sub });
    },

    join(client: Client, streamId: string): void {
      client.rooms.add(streamId);
      const entry = rooms.get(streamId);
      if (entry) {
        entry.clients.add(client);
        return;
      }
      const clients = new Set([client]);
      const sub = nats.connection.subscribe(streamStatusSubject(nats, streamId), {
        callback: (_err, msg) => {
          const status = parse<StreamStatusMessage>(msg.data);
          if (status) for (const c of clients) send(c, { type: 'stream_status', streamId, status: status.status });
        },
      });
      rooms.set(streamId, { clients, sub });
    },

    leave(client: Client, streamId: string): void {
      client.rooms.delete(streamId);
      const entry = rooms.get(streamId);
      if (!entry) return;
      entry.clients.delete(client);
      if (!entry.clients.size) {
        entry.sub.unsubscribe();
        rooms.delete(streamId);
      }
    },

    /** Forgets a closed socket everywhere. */
    remove(client: Client): void {
      for (const streamId of [...client.rooms]) this.leave(client, streamId);
      if (!client.userId) return;
      const entry = users.get(client.userId);
      if (!entry) return;
      entry.clients.delete(client);
      if (!entry.clients.size) {
        entry.sub.unsubscribe();
        users.delete(client.userId);
      }
    },

    close(): void {
      progressSub.unsubscribe();
      for (const { sub } of [...rooms.values(), ...users.values()]) sub.unsubscribe();
      rooms.clear();
      users.clear();
      logger.debug('hub closed');
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
