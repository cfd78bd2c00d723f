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
  | { type: 'gift' | 'leaderboard' | 'donation'; streamId: string; [field: string]: unknown };

export type ClientFrame =
  | { type: 'join'; streamId: string; since?: string }
  | { type: 'leave'; streamId: string }
  | { type: 'chat'; streamId: string; text: string; nonce: string }
  | { type: 'ping' }
  | { type: 'auth'; token: string };
