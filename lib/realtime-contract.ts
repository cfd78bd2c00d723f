// The realtime socket's frames (README "Realtime", DESIGN.md §6) as types only, with no imports:
// the gateway (realtime/), the platform code that raises room frames (lib/) and the web app
// (web/src/) all compile against this one file, so the page cannot drift from the server.

/** Why a signed-in identity ended; sent to the sockets it had, as `signed_out` `{reason}`. */
export type SignOutReason =
  | 'logout'
  | 'refresh_token_reused'
  | 'session_ended'
  | 'token_expired'
  | 'account_banned'
  | 'account_suspended'
  | 'account_deleted';

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

/** A subscription to the channel became active (a new one, or one received as a gift), announced once. */
export interface SubscriptionFrame {
  type: 'subscription';
  streamId: string;
  subscriber: { id: string; username: string };
  tier: 1 | 2 | 3;
  /** Paid periods of the subscriber on the channel, this one included. */
  months: number;
  /** Who gave it, when it was a gift. */
  gift: null | { giver: { id: string; username: string } };
  sentAt: string;
}

export type RoomFrame = GiftFrame | LeaderboardFrame | DonationFrame | SubscriptionFrame;

/** A mark shown beside a chat message's sender; today only the channel's subscriber badge. */
export interface ChatBadge {
  type: 'subscriber';
  tier: 1 | 2 | 3;
  /** Paid periods of the sender on the channel when the message was sent. */
  months: number;
}

export interface ChatFrame {
  type: 'chat';
  streamId: string;
  /** The message's JetStream sequence: its id and its offset for recovery. */
  id: string;
  userId: string;
  username: string;
  text: string;
  sentAt: string;
  /** What the sender wore when the message was sent (stored with it, so history shows the same); empty when none. */
  badges: ChatBadge[];
  /** Only on the sender's own sockets. */
  nonce?: string;
}

export type ServerFrame =
  | { type: 'pong' }
  | { type: 'joined'; streamId: string; history: ChatFrame[]; resumed?: boolean }
  | ChatFrame
  | { type: 'chat_deleted'; streamId: string; id: string }
  /** The channel lifted this socket's user's timeout or ban: they may chat in `streamId` again. */
  | { type: 'chat_restriction_lifted'; streamId: string }
  | { type: 'viewers'; streamId: string; count: number }
  | { type: 'stream_status'; streamId: string; status: string }
  /** `gift`, `leaderboard`, `donation` and `subscription`, raised by the platform (lib/room-frames.ts). */
  | RoomFrame
  | { type: 'notification'; notification: Record<string, unknown> }
  | { type: 'progress'; videoId: string; percent: number }
  | { type: 'authenticated'; userId: string; expiresAt: string }
  /** The socket's identity ended; it stays open as an anonymous viewer. */
  | { type: 'signed_out'; reason: SignOutReason; message: string }
  /** `until` and `reason` come with `chat_timeout` and `chat_banned` (`streamId` when pushed as it happens). */
  | { type: 'error'; code: string; message: string; nonce?: string; retryAfterSeconds?: number; streamId?: string; until?: string; reason?: string };

/** What a client sends; the gateway validates each against `clientFrameSchema` (realtime/frames.ts). */
export type ClientFrame =
  | { type: 'join'; streamId: string; since?: number | string }
  | { type: 'leave'; streamId: string }
  | { type: 'chat'; streamId: string; text: string; nonce?: string }
  | { type: 'ping' }
  | { type: 'auth'; token: string };
