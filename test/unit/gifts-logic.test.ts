import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { giftCost, giftRequestFingerprint, leaderboardFrame, rankLeaderboard, topChangedBy, GIFT_MAX_QUANTITY } from '../../lib/gifts.ts';
import { parseRoomFrame } from '../../lib/room-frames.ts';

const streamId = '00000000-0000-4000-8000-000000000001';
const giftId = '00000000-0000-4000-8000-000000000002';

describe('gift sends', () => {
  it('cost the price times the quantity, 1 to 100 of them', () => {
    expect(giftCost(10n, 3)).toBe(30n);
    expect(giftCost(1n, GIFT_MAX_QUANTITY)).toBe(100n);
    for (const quantity of [0, 101, 1.5, -1]) expect(() => giftCost(10n, quantity)).toThrow(RangeError);
    expect(() => giftCost(0n, 1)).toThrow(RangeError);
  });

  it('are the same request only with the same stream, gift and quantity', () => {
    const base = giftRequestFingerprint({ streamId, giftId, quantity: 2 });
    expect(giftRequestFingerprint({ giftId, quantity: 2, streamId })).toBe(base);
    expect(giftRequestFingerprint({ streamId, giftId, quantity: 3 })).not.toBe(base);
    expect(giftRequestFingerprint({ streamId: giftId, giftId: streamId, quantity: 2 })).not.toBe(base);
  });
});

/** The leaderboard as the database orders it: coins desc, then who reached the total first. */
function top(totals: Map<string, { coins: number; reachedAt: number }>, size: number) {
  const rows = [...totals].sort(([a, x], [b, y]) => y.coins - x.coins || x.reachedAt - y.reachedAt || (a < b ? -1 : 1));
  return rankLeaderboard(rows.slice(0, size).map(([userId, t]) => ({ userId, username: userId, coins: t.coins })));
}

describe('leaderboards', () => {
  it('rank in order and carry the coins of their top as the version', () => {
    const ranked = rankLeaderboard([
      { userId: 'a', username: 'ann', coins: 50 },
      { userId: 'b', username: 'bob', coins: 20 },
    ]);
    expect(ranked).toEqual([
      { rank: 1, userId: 'a', username: 'ann', coins: 50 },
      { rank: 2, userId: 'b', username: 'bob', coins: 20 },
    ]);
    expect(leaderboardFrame(streamId, ranked)).toEqual({ type: 'leaderboard', streamId, top: ranked, version: 70 });
  });

  it('change exactly when the sender is in the top afterwards, and every change raises the version (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ sender: fc.integer({ min: 0, max: 8 }), coins: fc.integer({ min: 1, max: 60 }) }), { maxLength: 60 }),
        (size, sends) => {
          const totals = new Map<string, { coins: number; reachedAt: number }>();
          let before = top(totals, size);
          sends.forEach(({ sender, coins }, time) => {
            const id = `u${sender}`;
            totals.set(id, { coins: (totals.get(id)?.coins ?? 0) + coins, reachedAt: time });
            const after = top(totals, size);
            const changed = JSON.stringify(after) !== JSON.stringify(before);
            expect(topChangedBy(id, after)).toBe(changed);
            const [v0, v1] = [leaderboardFrame(streamId, before).version, leaderboardFrame(streamId, after).version];
            expect(changed ? v1 > v0 : v1 === v0).toBe(true);
            before = after;
          });
        },
      ),
    );
  });
});

describe('room frames from NATS', () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('pass gift and leaderboard frames of the room', () => {
    const board = { type: 'leaderboard', streamId, top: [], version: 0 };
    expect(parseRoomFrame(encode(board), streamId)).toEqual(board);
    const gift = { type: 'gift', streamId, id: 'g', sender: { id: 'u', username: 'u' }, gift: { id: giftId, slug: 'rose', name: 'Rose', imageUrl: null, coins: 10 }, quantity: 1, coins: 10, sentAt: 'now' };
    expect(parseRoomFrame(encode(gift), streamId)).toEqual(gift);
  });

  it('drop anything else: other rooms, other frame types, garbage', () => {
    expect(parseRoomFrame(encode({ type: 'gift', streamId: giftId }), streamId)).toBeUndefined();
    expect(parseRoomFrame(encode({ type: 'signed_out', streamId }), streamId)).toBeUndefined();
    expect(parseRoomFrame(encode(null), streamId)).toBeUndefined();
    expect(parseRoomFrame(new TextEncoder().encode('{nope'), streamId)).toBeUndefined();
  });
});
