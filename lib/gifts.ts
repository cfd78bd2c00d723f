import { createHash } from 'node:crypto';
import type { LeaderboardEntry, LeaderboardFrame } from './room-frames.ts';

// Pure rules of sending gifts: what a send costs, what makes two requests the same, and when
// a broadcast's leaderboard has changed.

export const GIFT_MAX_QUANTITY = 100;
/** Gifters shown on a broadcast's leaderboard (and in its frames). */
export const LEADERBOARD_SIZE = 10;

export interface GiftRequest {
  streamId: string;
  giftId: string;
  quantity: number;
}

/** A digest of what was asked: a retry under the same key must ask exactly this again. */
export function giftRequestFingerprint(request: GiftRequest): string {
  return createHash('sha256').update(`gift\n${request.streamId}\n${request.giftId}\n${request.quantity}`).digest('hex');
}

/** Coins a send costs: the gift's price times the quantity. */
export function giftCost(price: bigint, quantity: number): bigint {
  if (price <= 0n) throw new RangeError('A gift costs at least one coin');
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > GIFT_MAX_QUANTITY) throw new RangeError(`Quantity must be 1–${GIFT_MAX_QUANTITY}`);
  return price * BigInt(quantity);
}

/** The ledger key of a send's entry: one entry per send, whatever the retries. */
export const giftEntryKey = (giftSendId: string) => `gift/${giftSendId}`;

/**
 * Whether a send changed the top: totals only grow, so the top changed exactly when the
 * sender is in it afterwards (they moved up, entered it, or their total in it grew). Someone
 * they passed who left the top is replaced by them, which this also covers.
 */
export function topChangedBy(senderId: string, top: readonly { userId: string }[]): boolean {
  return top.some((entry) => entry.userId === senderId);
}

/** Ranks rows already ordered by coins (desc) and the time each total was reached. */
export function rankLeaderboard(rows: readonly { userId: string; username: string; coins: number }[]): LeaderboardEntry[] {
  return rows.map((row, i) => ({ rank: i + 1, userId: row.userId, username: row.username, coins: row.coins }));
}

export function leaderboardFrame(streamId: string, top: LeaderboardEntry[]): LeaderboardFrame {
  return { type: 'leaderboard', streamId, top, version: top.reduce((sum, entry) => sum + entry.coins, 0) };
}
