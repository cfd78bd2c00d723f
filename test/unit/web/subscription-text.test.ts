import { describe, expect, it } from 'vitest';
import { refusalText } from '../../../web/src/features/chat/rules.ts';
import type { ChatFrame } from '../../../web/src/realtime/frames.ts';
import type { Subscription } from '../../../web/src/features/subscriptions/types.ts';
import { announcementText, subscriberBadge, type SubscriptionFrame } from '../../../web/src/features/subscriptions/frames.ts';
import { formatDate, perMonth, stateText } from '../../../web/src/features/subscriptions/format.ts';

// A subscription's state in the words the channel page and /subscriptions show, and what the
// chat makes of the `badges` field and the room's `subscription` frames.

const person = (username: string) => ({ id: `id-${username}`, username, displayName: '' });
const END = '2027-01-02T10:00:00.000Z';
const base: Subscription = {
  id: 's1',
  channel: person('chan'),
  subscriber: person('fan'),
  tier: 1,
  tierName: 'Tier 1',
  price: 499,
  currency: 'USD',
  status: 'active',
  renews: true,
  cancelAtPeriodEnd: false,
  currentPeriodStart: '2026-12-02T10:00:00.000Z',
  currentPeriodEnd: END,
  pastDueSince: null,
  gift: null,
  monthsSubscribed: 1,
  createdAt: '2026-12-02T10:00:00.000Z',
  endedAt: null,
  endedReason: null,
};
const at = (over: Partial<Subscription>): Subscription => ({ ...base, ...over });

describe('subscription text', () => {
  it('says what the subscriber has and until when, in every state', () => {
    const end = formatDate(END);
    expect(stateText(at({ status: 'incomplete', currentPeriodEnd: null }))).toBe('Waiting for the payment to be confirmed…');
    expect(stateText(base)).toBe(`Active, renews on ${end}`);
    expect(stateText(at({ cancelAtPeriodEnd: true }))).toBe(`Cancelled: you keep it until ${end}, then it ends`);
    expect(stateText(at({ renews: false, gift: { id: 'g', giver: person('kind') } }))).toBe(`Gifted by kind, ends on ${end}`);
    expect(stateText(at({ status: 'past_due', pastDueSince: '2027-01-02T11:00:00.000Z' }))).toMatch(new RegExp(`^Payment failed on ${formatDate('2027-01-02T11:00:00.000Z')}: Stripe tries again\\.`));
    expect(stateText(at({ status: 'ended', endedAt: END, endedReason: 'canceled' }))).toBe(`Ended on ${end}`);
    expect(stateText(at({ status: 'ended', endedAt: END, endedReason: 'gift_expired' }))).toBe(`The gifted month ended on ${end}`);
    expect(stateText(at({ status: 'lapsed', endedAt: END, endedReason: 'lapsed' }))).toBe(`Lapsed (the payment did not go through) on ${end}`);
    expect(perMonth(base)).toBe(`${new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(4.99)} a month`);
  });

  it('finds the subscriber badge of a chat message, words the room’s announcements and a subscriber-only refusal', () => {
    const message = { type: 'chat', streamId: 'st', id: '1', userId: 'u', username: 'fan', text: 'hi', sentAt: END } as ChatFrame;
    expect(subscriberBadge(message)).toBeUndefined();
    expect(subscriberBadge({ ...message, badges: [] } as ChatFrame)).toBeUndefined();
    expect(subscriberBadge({ ...message, badges: [{ type: 'subscriber', tier: 2, months: 3 }] } as ChatFrame)).toEqual({ type: 'subscriber', tier: 2, months: 3 });
    const frame: SubscriptionFrame = { type: 'subscription', streamId: 'st', subscriber: { id: 'u', username: 'fan' }, tier: 1, months: 1, gift: null, sentAt: END };
    expect(announcementText(frame)).toBe('fan subscribed at Tier 1');
    expect(announcementText({ ...frame, months: 4 })).toBe('fan subscribed at Tier 1: 4 months');
    expect(announcementText({ ...frame, gift: { giver: { id: 'g', username: 'kind' } } })).toBe('kind gifted fan a Tier 1 subscription');
    // A refusal in subscriber-only chat, in plain words (the gateway's code is `subscribers_only`).
    expect(refusalText({ code: 'subscribers_only', message: 'Only subscribers can chat in this stream' })).toMatch(/^Subscriber-only chat: only the channel’s subscribers can chat here\. Subscribe to the channel/);
  });
});
