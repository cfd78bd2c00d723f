import type { Nats } from './nats.ts';

// Frames for everyone in a stream's room that the platform raises (gifts, leaderboards, donations), as
// opposed to chat (JetStream) and status (the stream workflow). Published on core NATS
// `stream.<id>.room` once what they announce is committed; every gateway with viewers of the
// stream forwards them unchanged. At most once: a gateway cut off from NATS misses them, and
// what they show can always be read again over HTTP (the leaderboard, the wallet).

export interface GiftFrame {
  type: 'gift';
  streamId: string;
  /** The gift send's id. */
  id: string;
  sender: { id: string; username: string };
  gift: { id: string; slug: string; name: string; imageUrl: string | null; coins: number };
  quantity: number;
  /** What the send cost: the gift's price × quantity. */
  coins: number;
  sentAt: string;
}

export interface LeaderboardEntry {
  rank: number;
  userId: string;
  username: string;
  coins: number;
}

export interface LeaderboardFrame {
  type: 'leaderboard';
  streamId: string;
  top: LeaderboardEntry[];
  /**
   * Grows with every change of `top` (it is the coins `top` adds up to: totals only grow, so a
   * new top always adds up to more). Frames may arrive out of order: keep the highest version.
   */
  version: number;
}

/** A paid tip to a live stream, announced once the payment is booked. */
export interface DonationFrame {
  type: 'donation';
  streamId: string;
  /** The payment's id. */
  id: string;
  /** Minor units of `currency` (cents for USD). */
  amount: number;
  currency: string;
  message: string | null;
  /** The donor's display name, or "anonymous". */
  name: string;
  /** Null when the donor chose to stay anonymous. */
  donor: { id: string; username: string } | null;
  sentAt: string;
}

export type RoomFrame = GiftFrame | LeaderboardFrame | DonationFrame;

const roomFrameTypes: ReadonlySet<string> = new Set<RoomFrame['type']>(['gift', 'leaderboard', 'donation']);

export function streamRoomSubject(nats: Nats, streamId: string): string {
  return nats.subject(`stream.${streamId}.room`);
}

/** Never throws: a frame NATS cannot take must not turn a committed gift or payment into an error. */
export function publishRoomFrame(nats: Nats, frame: RoomFrame): boolean {
  try {
    nats.connection.publish(streamRoomSubject(nats, frame.streamId), JSON.stringify(frame));
    return true;
  } catch {
    return false;
  }
}

/** A room frame received for `streamId`, or undefined for anything else. */
export function parseRoomFrame(data: Uint8Array, streamId: string): RoomFrame | undefined {
  try {
    const frame = JSON.parse(new TextDecoder().decode(data)) as Partial<RoomFrame> | null;
    if (!frame || typeof frame.type !== 'string' || !roomFrameTypes.has(frame.type) || frame.streamId !== streamId) return undefined;
    return frame as RoomFrame;
  } catch {
    return undefined;
  }
}
