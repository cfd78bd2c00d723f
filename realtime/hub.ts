import type { Socket } from 'node:net';
import { Events, type QueuedIterator, type Status, type Subscription } from 'nats';
import type { WebSocket } from 'ws';
import type { StoredChatEvent } from '../lib/chat.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { Nats } from '../lib/nats.ts';
import { notificationSubject } from '../lib/notifications.ts';
import { parseRoomFrame, streamRoomSubject } from '../lib/room-frames.ts';
import { streamStatusSubject, type StreamStatusMessage } from '../lib/streams.ts';
import type { VideoProgressMessage } from '../lib/videos.ts';
import { chatFrame, eventFrame, openChatRoom, type ChatRoom, type History } from './chat-room.ts';
import type { ServerFrame } from './frames.ts';
import type { RealtimeMetrics } from './metrics.ts';
import { TtlCache } from './ttl-cache.ts';

/** Bytes a socket may have waiting to be sent before it counts as a slow consumer. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Frames held for a socket while its join's history is read (bounded by the read's timeout). */
const MAX_HELD_FRAMES = 1000;

export interface Client {
  socket: WebSocket;
  /** Null for anonymous viewers. Changes while the socket is open (`auth` frames, sign-outs): set it through `setUser`. */
  userId: string | null;
  /** The session of the access token the socket signed in with: ending it signs the socket out. */
  sessionId: string | null;
  /** Counts a viewer once however many tabs they open: the user, or the client address for anonymous viewers. */
  viewerKey: string;
  rooms: Set<string>;
  /** Rooms being joined: their live frames wait here until the history has been sent. */
  holding: Map<string, ServerFrame[]>;
}

interface Outgoing {
  frame: ServerFrame;
  /** Encoded on first use, once for the whole room. */
  data?: Buffer;
  only?: Set<Client>;
  except?: Set<Client>;
}

interface Room {
  clients: Set<Client>;
  statusSub: Subscription;
  /** Frames the platform raises for the room (gifts, leaderboards, donations). */
  roomSub: Subscription;
  chat: ChatRoom;
  outbox: Outgoing[];
}

/**
 * Which sockets of this gateway want which NATS subjects. Subscribes a subject while at
 * least one local socket needs it, so a gateway only receives traffic for its own viewers.
 */
export function createHub(deps: { nats: Nats; db: Db; logger: Logger; metrics: RealtimeMetrics }) {
  const { nats, logger } = deps;
  const rooms = new Map<string, Room>();
  const users = new Map<string, { clients: Set<Client>; sub: Subscription }>();
  // A video's owner never changes; a transcode's progress messages cost one lookup.
  const videoOwners = new TtlCache<string, string | null>(60 * 60_000, 10_000);

  /** Writes an encoded frame, closing a socket whose queue is full instead of letting memory grow. */
  function sendData(client: Client, data: Buffer): boolean {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      // Not close(): its handshake would queue behind the frames the client is not reading.
      socket.terminate();
      deps.metrics.slowConsumers.inc();
      return false;
    }
    socket.send(data, { binary: false });
    return true;
  }

  const encode = (frame: ServerFrame) => Buffer.from(JSON.stringify(frame));

  function send(client: Client, frame: ServerFrame): void {
    if (sendData(client, encode(frame))) deps.metrics.framesSent.inc();
  }

  /** One frame to many sockets, encoded once. */
  function broadcast(clients: Iterable<Client>, frame: ServerFrame): void {
    let data: Buffer | undefined;
    let sent = 0;
    for (const client of clients) if (sendData(client, (data ??= encode(frame)))) sent++;
    deps.metrics.framesSent.inc(sent);
  }

  /**
   * Queues a frame for a room's sockets (`only` some of them, or all `except` some). The
   * queue goes out on the next turn of the event loop: while the gateway keeps up that is at
   * once, and when messages arrive faster than a room's sockets can be written to, each
   * socket gets everything queued in one system call instead of one per message.
   */
  function toRoom(streamId: string, frame: ServerFrame, audience: Pick<Outgoing, 'only' | 'except'> = {}): void {
    const room = rooms.get(streamId);
    if (room && room.outbox.push({ frame, ...audience }) === 1) setImmediate(() => flush(streamId, room));
  }

  function flush(streamId: string, room: Room): void {
    const outbox = room.outbox;
    room.outbox = [];
    let sent = 0;
    for (const client of room.clients) {
      const held = client.holding.get(streamId);
      // ws writes every frame with a system call of its own; with the TCP socket corked they
      // leave together (ws's own cork and uncork nest inside this one).
      const tcp = (client.socket as unknown as { _socket?: Socket })._socket;
      tcp?.cork();
      for (const out of outbox) {
        if (out.except?.has(client) || (out.only && !out.only.has(client))) continue;
        if (held) {
          // Still joining: these follow the history.
          if (held.push(out.frame) > MAX_HELD_FRAMES) client.socket.terminate();
          continue;
        }
        if (sendData(client, (out.data ??= encode(out.frame)))) sent++;
      }
      tcp?.uncork();
    }
    deps.metrics.framesSent.inc(sent);
  }

  function deliverChat(streamId: string, clients: Set<Client>, event: StoredChatEvent): void {
    if (event.kind === 'message') deps.metrics.chatDeliveryLag.observe(Math.max(0, Date.now() - Date.parse(event.sentAt)) / 1000);
    // The sender's own sockets get the nonce back, which tells them this is their message.
    const senders = event.kind === 'message' && event.nonce ? users.get(event.userId)?.clients : undefined;
    const own = senders && new Set([...senders].filter((c) => clients.has(c)));
    toRoom(streamId, eventFrame(event), { except: own });
    if (own?.size && event.kind === 'message') toRoom(streamId, chatFrame(event, true), { only: own });
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
      let owner: string | null;
      try {
        owner = await videoOwners.get(progress.videoId, async () => {
          const row = await deps.db.selectFrom('videos').select('owner_id').where('id', '=', progress.videoId).executeTakeFirst();
          return row?.owner_id ?? null;
        });
      } catch (err) {
        logger.warn({ err, videoId: progress.videoId }, 'could not look up a video owner; progress not forwarded');
        return;
      }
      for (const client of (owner && users.get(owner)?.clients) || []) {
        send(client, { type: 'progress', videoId: progress.videoId, percent: progress.percent });
      }
    },
  });

  function addUser(client: Client): void {
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
        if (notification) broadcast(clients, { type: 'notification', notification });
      },
    });
    users.set(client.userId, { clients, sub });
  }

  function removeUser(client: Client): void {
    if (!client.userId) return;
    const entry = users.get(client.userId);
    if (!entry) return;
    entry.clients.delete(client);
    if (!entry.clients.size) {
      entry.sub.unsubscribe();
      users.delete(client.userId);
    }
  }

  // While this gateway's NATS connection is down, chat stored by other gateways never reaches
  // it live; once it is back each room catches up from JetStream.
  const connectionStatus = nats.connection.status() as QueuedIterator<Status>;
  void (async () => {
    for await (const status of connectionStatus) {
      if (status.type === Events.Disconnect) for (const room of rooms.values()) room.chat.suspend();
      if (status.type === Events.Reconnect) for (const room of rooms.values()) room.chat.catchUp();
    }
  })();

  return {
    send,
    toRoom,
    rooms: () => rooms,

    addUser,

    /** Changes who a socket is (signing in, out, or as someone else): its user's pushes follow. */
    setUser(client: Client, userId: string | null): void {
      if (client.userId === userId) return;
      removeUser(client);
      client.userId = userId;
      addUser(client);
    },

    /** This gateway's sockets of a user. */
    clientsOf(userId: string): ReadonlySet<Client> {
      return users.get(userId)?.clients ?? new Set();
    },

    /** Every signed-in socket of this gateway. */
    *signedIn(): Iterable<Client> {
      for (const { clients } of users.values()) yield* clients;
    },

    /**
     * Puts a socket in a room at once (it counts as a viewer and nothing live is missed) but
     * holds its frames until `completeJoin` has sent the history from the returned chat room.
     */
    join(client: Client, streamId: string): ChatRoom {
      client.rooms.add(streamId);
      client.holding.set(streamId, []);
      const entry = rooms.get(streamId);
      if (entry) {
        entry.clients.add(client);
        return entry.chat;
      }
      const clients = new Set([client]);
      const statusSub = nats.connection.subscribe(streamStatusSubject(nats, streamId), {
        callback: (_err, msg) => {
          const status = parse<StreamStatusMessage>(msg.data);
          if (status) toRoom(streamId, { type: 'stream_status', streamId, status: status.status });
        },
      });
      const roomSub = nats.connection.subscribe(streamRoomSubject(nats, streamId), {
        callback: (_err, msg) => {
          const frame = parseRoomFrame(msg.data, streamId);
          if (frame) toRoom(streamId, frame);
        },
      });
      const chat = openChatRoom(deps, streamId, (event) => deliverChat(streamId, clients, event));
      rooms.set(streamId, { clients, statusSub, roomSub, chat, outbox: [] });
      return chat;
    },

    /** Sends `joined` with the history, then what arrived meanwhile and is not in it. */
    completeJoin(client: Client, streamId: string, history: History): void {
      const held = client.holding.get(streamId);
      const room = rooms.get(streamId);
      if (!held || !room?.clients.has(client)) return;
      // Frames queued this turn may already be in the history: they go to the held ones, where they are filtered.
      if (room.outbox.length) flush(streamId, room);
      client.holding.delete(streamId);
      send(client, { type: 'joined', streamId, history: history.history, ...(history.resumed === undefined ? {} : { resumed: history.resumed }) });
      for (const frame of [...history.deletions, ...held]) {
        if (frame.type === 'chat' && Number(frame.id) <= history.lastSeq) continue;
        send(client, frame);
      }
    },

    leave(client: Client, streamId: string): void {
      client.rooms.delete(streamId);
      client.holding.delete(streamId);
      const entry = rooms.get(streamId);
      if (!entry) return;
      entry.clients.delete(client);
      if (!entry.clients.size) {
        entry.statusSub.unsubscribe();
        entry.roomSub.unsubscribe();
        entry.chat.close();
        rooms.delete(streamId);
      }
    },

    /** Forgets a closed socket everywhere. */
    remove(client: Client): void {
      for (const streamId of [...client.rooms]) this.leave(client, streamId);
      removeUser(client);
    },

    close(): void {
      connectionStatus.stop();
      progressSub.unsubscribe();
      for (const room of rooms.values()) {
        room.statusSub.unsubscribe();
        room.roomSub.unsubscribe();
        room.chat.close();
      }
      for (const { sub } of users.values()) sub.unsubscribe();
      rooms.clear();
      users.clear();
      logger.debug('hub closed');
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
