// Frames of the realtime socket (README "Realtime", DESIGN §6), as the page sees them.

export interface ChatFrame {
  type: 'chat';
  streamId: string;
  /** JetStream sequence: the message's id and its offset for `since` resume. */
  id: string;
  userId: string;
  username: string;
  text: string;
  sentAt: string;
  nonce?: string;
}

/** A gift sent in the room (lib/room-frames.ts). */
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

/** The broadcast's top gifters; `version` grows with every change (keep the highest). */
export interface LeaderboardFrame {
  type: 'leaderboard';
  streamId: string;
  top: { rank: number; userId: string; username: string; coins: number }[];
  version: number;
}

/** A paid tip to a live stream, once the payment is booked. `amount` is minor units of `currency`. */
export interface DonationFrame {
  type: 'donation';
  streamId: string;
  /** The payment's id. */
  id: string;
  amount: number;
  currency: string;
  message: string | null;
  /** The donor's display name, or "anonymous". */
  name: string;
  donor: { id: string; username: string } | null;
  sentAt: string;
}

export type ServerFrame =
  | { type: 'pong' }
  | { type: 'joined'; streamId: string; history: ChatFrame[]; resumed?: boolean }
  | ChatFrame
  | { type: 'chat_deleted'; streamId: string; id: string }
  | { type: 'viewers'; streamId: string; count: number }
  | { type: 'stream_status'; streamId: string; status: string }
  | { type: 'notification'; notification: Record<string, unknown> }
  | { type: 'progress'; videoId: string; percent: number }
  | { type: 'authenticated'; userId: string; expiresAt: string }
  | { type: 'signed_out'; reason: string; message: string }
  | { type: 'error'; code: string; message: string; nonce?: string; retryAfterSeconds?: number }
  | GiftFrame
  | LeaderboardFrame
  | DonationFrame;

export type ClientFrame =
  | { type: 'join'; streamId: string; since?: string }
  | { type: 'leave'; streamId: string }
  | { type: 'chat'; streamId: string; text: string; nonce: string }
  | { type: 'ping' }
  | { type: 'auth'; token: string };
