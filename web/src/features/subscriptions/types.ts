// The subscriptions API's shapes, from the generated schema (types only, no runtime imports:
// the pages, their text helpers and unit tests share them).
import type { components } from '../../api/schema.ts';

export type Subscription = components['schemas']['Subscription'];
export type SubscriptionTier = components['schemas']['SubscriptionTier'];
export type Tier = SubscriptionTier['tier'];
export type SubscriptionStatus = Subscription['status'];
export type Person = Subscription['channel'];
export type SubscriberStats = components['schemas']['SubscriberStats'];
export type Subscriber = components['schemas']['ChannelSubscriber'];
export type SubscriptionGift = components['schemas']['SubscriptionGift'];
export type SubscriptionGiftDetails = components['schemas']['SubscriptionGiftDetails'];
