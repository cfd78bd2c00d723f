import type { RoomFrame } from './realtime-contract.ts';
import type { Nats } from './nats.ts';

export type { DonationFrame, GiftFrame, LeaderboardEntry, LeaderboardFrame, RoomFrame, SubscriptionFrame } from './realtime-contract.ts';

// Frames for everyone in a stream's room that the platform raises (gifts, leaderboards, donations, subscriptions), as
// opposed to chat (JetStream) and status (the stream workflow). Published on core NATS
// `stream.<id>.room` once what they announce is committed; every gateway with viewers of the
// stream forwards them unchanged. At most once: a gateway cut off from NATS misses them, and
// what they show can always be read again over HTTP (the leaderboard, the wallet).

const roomFrameTypes: ReadonlySet<string> = new Set<RoomFrame['type']>(['gift', 'leaderboard', 'donation', 'subscription']);

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
