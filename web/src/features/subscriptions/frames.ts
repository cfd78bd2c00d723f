// What subscriptions add to the socket's frames (README "Realtime"): a `badges` list on chat
// messages and the room's `subscription` announcement. Kept apart from the subscriptions API
// so the chat (on a first-time viewer's watch page) loads only these few lines.
import type { ChatFrame } from '../../realtime/frames.ts';

export interface SubscriberBadge {
  type: 'subscriber';
  tier: number;
  /** Paid periods of this subscriber on this channel. */
  months: number;
}

/** A room's new subscription or gifted one, announced once it is active. */
export interface SubscriptionFrame {
  type: 'subscription';
  streamId: string;
  subscriber: { id: string; username: string };
  tier: number;
  months: number;
  gift: null | { giver: { id: string; username: string } };
  sentAt: string;
}

/** A message's subscriber badge, when it has one. */
export const subscriberBadge = (message: ChatFrame): SubscriberBadge | undefined =>
  ((message as { badges?: { type: string }[] }).badges ?? []).find((b): b is SubscriberBadge => b.type === 'subscriber');

export const isSubscriptionFrame = (frame: { type: string }): frame is SubscriptionFrame => frame.type === 'subscription';

export const monthsText = (months: number) => `${months} ${months === 1 ? 'month' : 'months'}`;

/** The announcement line for the chat. */
export function announcementText(frame: SubscriptionFrame): string {
  if (frame.gift) return `${frame.gift.giver.username} gifted ${frame.subscriber.username} a Tier ${frame.tier} subscription`;
  return `${frame.subscriber.username} subscribed at Tier ${frame.tier}${frame.months > 1 ? `: ${monthsText(frame.months)}` : ''}`;
}
