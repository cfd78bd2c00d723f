import { describe, expect, it } from 'vitest';
import { chatRefusalMessages, CHAT_MODES } from '../../lib/chat.ts';
import { parseRoomFrame } from '../../lib/room-frames.ts';
import { chatBadges } from '../../lib/subscriptions/perks.ts';
import { calendarMonthUtc } from '../../lib/subscriptions/stats.ts';
import { chatFrame } from '../../realtime/chat-room.ts';

// The pure parts of subscriber perks: badges on chat frames, the churn month, the room frame.

describe('chat badges', () => {
  it('is one subscriber badge with tier and months, or none', () => {
    expect(chatBadges({ tier: 2, months: 7 })).toEqual([{ type: 'subscriber', tier: 2, months: 7 }]);
    expect(chatBadges(undefined)).toEqual([]);
  });

  it('puts the stored badges on the frame, and an empty list on messages stored before badges existed', () => {
    const base = { kind: 'message' as const, streamId: 's', userId: 'u', username: 'ann', text: 'hi', sentAt: '2026-12-02T10:00:00.000Z', seq: 9 };
    expect(chatFrame({ ...base, badges: [{ type: 'subscriber', tier: 3, months: 1 }] })).toEqual({
      type: 'chat',
      streamId: 's',
      id: '9',
      userId: 'u',
      username: 'ann',
      text: 'hi',
      sentAt: '2026-12-02T10:00:00.000Z',
      badges: [{ type: 'subscriber', tier: 3, months: 1 }],
    });
    expect(chatFrame(base).badges).toEqual([]);
  });

  it('has a subscriber-only mode with its own refusal', () => {
    expect(CHAT_MODES).toEqual(['everyone', 'followers', 'subscribers']);
    expect(chatRefusalMessages.subscribers_only).toBe('Only subscribers can chat in this stream');
  });
});

describe('calendarMonthUtc', () => {
  it('is the UTC month and its bounds, whatever the local clock', () => {
    expect(calendarMonthUtc(new Date('2026-12-31T23:59:59.999Z'))).toEqual({
      month: '2026-12',
      start: new Date('2026-12-01T00:00:00.000Z'),
      end: new Date('2027-01-01T00:00:00.000Z'),
    });
    expect(calendarMonthUtc(new Date('2027-01-01T00:00:00.000Z')).month).toBe('2027-01');
    expect(calendarMonthUtc(new Date('2028-02-29T12:00:00+14:00'))).toEqual({
      month: '2028-02',
      start: new Date('2028-02-01T00:00:00.000Z'),
      end: new Date('2028-03-01T00:00:00.000Z'),
    });
  });
});

describe('the subscription room frame', () => {
  const frame = { type: 'subscription', streamId: 's1', subscriber: { id: 'u', username: 'ann' }, tier: 1, months: 2, gift: null, sentAt: '2026-12-02T10:00:00.000Z' };
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('is forwarded to its own room only', () => {
    expect(parseRoomFrame(bytes(frame), 's1')).toEqual(frame);
    expect(parseRoomFrame(bytes(frame), 's2')).toBeUndefined();
  });
});
