// What subscriptions add to the socket's frames (README "Realtime"): the `badges` of chat
// messages and the room's `subscription` announcement, in words. Kept apart from the
// subscriptions API so the chat (on a first-time viewer's watch page) loads only these lines.
import type { ChatBadge, ChatFrame, SubscriptionFrame } from '../../realtime/frames.ts';

export type { SubscriptionFrame };
export type SubscriberBadge = ChatBadge;

/** A message's subscriber badge, when it has one. */
export const subscriberBadge = (message: ChatFrame): SubscriberBadge | undefined => (message.badges ?? []).find((b) => b.type === 'subscriber');

export const monthsText = (months: number) => `${months} ${months === 1 ? 'month' : 'months'}`;

/** The announcement line for the chat. */
export function announcementText(frame: SubscriptionFrame): string {
  if (frame.gift) return `${frame.gift.giver.username} gifted ${frame.subscriber.username} a Tier ${frame.tier} subscription`;
  return `${frame.subscriber.username} subscribed at Tier ${frame.tier}${frame.months > 1 ? `: ${monthsText(frame.months)}` : ''}`;
}
