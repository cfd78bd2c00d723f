// The subscriptions API's shapes (README "Subscriptions"), with no imports: the pages, their
// text helpers and unit tests share them.

export type Tier = 1 | 2 | 3;
export type SubscriptionStatus = 'incomplete' | 'active' | 'past_due' | 'lapsed' | 'ended';
export interface Person {
  id: string;
  username: string;
  displayName: string | null;
}

export interface SubscriptionTier {
  tier: Tier;
  name: string;
  price: number;
  currency: string;
}

export interface Subscription {
  id: string;
  channel: Person;
  subscriber: Person;
  tier: Tier;
  tierName: string;
  price: number;
  currency: string;
  status: SubscriptionStatus;
  renews: boolean;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  pastDueSince: string | null;
  gift: null | { id: string; giver: Person };
  monthsSubscribed: number;
  createdAt: string;
  endedAt: string | null;
  endedReason: string | null;
}

export interface SubscriberStats {
  total: number;
  tiers: { tier: Tier; name: string; count: number }[];
  churn: { month: string; started: number; ended: number; lapsed: number };
}

export interface Subscriber {
  user: Person;
  tier: Tier;
  monthsSubscribed: number;
  status: SubscriptionStatus;
  since: string;
  gifted: boolean;
}

export interface SubscriptionGift {
  id: string;
  tier: Tier;
  quantity: number;
  amount: number;
  currency: string;
  status: string;
}
