import type { Config } from '../config.ts';
import type { SubscriptionRules } from './rules.ts';

/** The deployment's subscription rules, from its config (prices become bigint here, once). */
export function subscriptionRules(config: Pick<Config, 'subscriptions'>): SubscriptionRules {
  const s = config.subscriptions;
  const [t1, t2, t3] = s.tierPricesMinor;
  return { tierPrices: [BigInt(t1), BigInt(t2), BigInt(t3)], creatorShareBps: s.creatorShareBps, graceSeconds: s.graceSeconds };
}
