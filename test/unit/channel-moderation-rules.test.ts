import { describe, expect, it } from 'vitest';
import {
  channelStanding,
  deleteRefusal,
  parseChannelModerationEvent,
  restrictionInForce,
  restrictionRefusal,
  restrictRefusal,
  stillInForce,
  type ChannelStanding,
} from '../../lib/moderation/channel.ts';

const now = new Date('2026-12-02T10:00:00.000Z');
const later = new Date('2026-12-02T10:05:00.000Z');
const earlier = new Date('2026-12-02T09:55:00.000Z');

describe('the restriction in force', () => {
  it('is the latest fact: a ban, a timeout until it ends, nothing after a lift', () => {
    expect(restrictionInForce(undefined, now)).toBeUndefined();
    expect(restrictionInForce({ action: 'ban', reason: 'spam', expires_at: null }, now)).toEqual({ type: 'ban', reason: 'spam', until: null });
    expect(restrictionInForce({ action: 'timeout', reason: '', expires_at: later }, now)).toEqual({ type: 'timeout', reason: '', until: later });
    // A timeout ends by itself: no fact is needed.
    expect(restrictionInForce({ action: 'timeout', reason: '', expires_at: earlier }, now)).toBeUndefined();
    expect(restrictionInForce({ action: 'timeout', reason: '', expires_at: now }, now)).toBeUndefined();
    expect(restrictionInForce({ action: 'lift', reason: 'appeal', expires_at: null }, now)).toBeUndefined();
  });

  it('read earlier, still holds only until its end', () => {
    expect(stillInForce(undefined, now)).toBe(false);
    expect(stillInForce({ type: 'ban', reason: '', until: null }, now)).toBe(true);
    expect(stillInForce({ type: 'timeout', reason: '', until: later }, now)).toBe(true);
    expect(stillInForce({ type: 'timeout', reason: '', until: later }, later)).toBe(false);
  });

  it('becomes a chat refusal that says why and until when', () => {
    expect(restrictionRefusal({ type: 'ban', reason: 'spam', until: null })).toEqual({ code: 'chat_banned', message: "You are banned from this channel's chat: spam", reason: 'spam' });
    expect(restrictionRefusal({ type: 'timeout', reason: '', until: later })).toEqual({
      code: 'chat_timeout',
      message: `You are timed out in this channel's chat until ${later.toISOString()}`,
      until: later.toISOString(),
      reason: '',
    });
  });
});

describe('who may time out or ban whom', () => {
  const owner = 'owner';
  it('places people: the owner, platform staff by role, channel moderators by the list', () => {
    expect(channelStanding({ id: owner, role: 'admin' }, owner, false)).toBe('owner');
    expect(channelStanding({ id: 'm', role: 'moderator' }, owner, false)).toBe('staff');
    expect(channelStanding({ id: 'a', role: 'admin' }, owner, true)).toBe('staff');
    expect(channelStanding({ id: 'c', role: 'viewer' }, owner, true)).toBe('channel_moderator');
    expect(channelStanding({ id: 'v', role: 'creator' }, owner, false)).toBe('viewer');
    expect(channelStanding({ id: 'f', role: 'finance' }, owner, false)).toBe('viewer');
  });

  const cases: Array<[ChannelStanding, ChannelStanding, ReturnType<typeof restrictRefusal>]> = [
    ['owner', 'viewer', undefined],
    ['channel_moderator', 'viewer', undefined],
    ['staff', 'viewer', undefined],
    ['viewer', 'viewer', 'not_a_moderator'],
    ['channel_moderator', 'owner', 'channel_owner'],
    ['staff', 'owner', 'channel_owner'],
    ['owner', 'staff', 'platform_staff'],
    ['channel_moderator', 'staff', 'platform_staff'],
    ['channel_moderator', 'channel_moderator', 'channel_moderator'],
    ['owner', 'channel_moderator', 'channel_moderator'],
  ];
  for (const [actor, target, expected] of cases) {
    it(`${actor} on ${target}: ${expected ?? 'allowed'}`, () => {
      expect(restrictRefusal({ id: 'actor', standing: actor }, { id: 'target', standing: target })).toBe(expected);
    });
  }

  it('never lets anyone restrict themselves', () => {
    expect(restrictRefusal({ id: 'x', standing: 'channel_moderator' }, { id: 'x', standing: 'channel_moderator' })).toBe('self');
    expect(restrictRefusal({ id: 'x', standing: 'staff' }, { id: 'x', standing: 'staff' })).toBe('self');
  });
});

describe('whose chat messages may be deleted by whom', () => {
  const cases: Array<[ChannelStanding, ChannelStanding, ReturnType<typeof deleteRefusal>]> = [
    ['channel_moderator', 'viewer', undefined],
    ['channel_moderator', 'owner', 'channel_owner'],
    ['channel_moderator', 'staff', 'platform_staff'],
    ['channel_moderator', 'channel_moderator', 'channel_moderator'],
    ['owner', 'channel_moderator', undefined],
    ['owner', 'staff', undefined],
    ['staff', 'owner', undefined],
    ['staff', 'staff', undefined],
  ];
  for (const [actor, sender, expected] of cases) {
    it(`${actor} deleting a message of ${sender}: ${expected ?? 'allowed'}`, () => {
      expect(deleteRefusal({ id: 'actor', standing: actor }, { id: 'sender', standing: sender })).toBe(expected);
    });
  }

  it('lets a channel moderator delete their own', () => {
    expect(deleteRefusal({ id: 'x', standing: 'channel_moderator' }, { id: 'x', standing: 'channel_moderator' })).toBeUndefined();
  });
});

describe('channel moderation events', () => {
  const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
  it('parses what the API publishes and ignores anything else', () => {
    const event = { ownerId: 'o', userId: 'u', change: 'restriction', restriction: { type: 'ban', reason: '', until: null } };
    expect(parseChannelModerationEvent(bytes(event))).toEqual(event);
    expect(parseChannelModerationEvent(bytes({ ownerId: 'o', userId: 'u', change: 'other' }))).toBeUndefined();
    expect(parseChannelModerationEvent(bytes({ ownerId: 'o', change: 'moderator' }))).toBeUndefined();
    expect(parseChannelModerationEvent(bytes('{nope'))).toBeUndefined();
  });
});
