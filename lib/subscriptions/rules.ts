import { platformAccount, userAccount } from '../ledger/chart.ts';
import { basisPoints, credit, debit, type Line } from '../ledger/rules.ts';
import type { MoneyRules } from '../money/rules.ts';
import type { SubscriptionStatus, SubscriptionTier } from '../schema.ts';

// Pure rules of channel subscriptions (README "Subscriptions"): tiers and their prices, the
// revenue share of a paid period, and which states keep the perks. Imported by the API, the
// activities, the gateway and tests, so every place reads the same rule.

export const SUBSCRIPTION_TIERS = [1, 2, 3] as const satisfies readonly SubscriptionTier[];

export const isSubscriptionTier = (value: unknown): value is SubscriptionTier => value === 1 || value === 2 || value === 3;

/** The name a tier has until its creator renames it. */
export const defaultTierName = (tier: SubscriptionTier): string => `Tier ${tier}`;

export interface SubscriptionRules {
  /** Monthly price of tiers 1, 2 and 3, minor units of the settlement currency. */
  tierPrices: readonly [bigint, bigint, bigint];
  /** The creator's share of a paid period, basis points of the amount less the provider's fee. */
  creatorShareBps: number;
  graceSeconds: number;
}

export const tierPrice = (rules: Pick<SubscriptionRules, 'tierPrices'>, tier: SubscriptionTier): bigint => rules.tierPrices[tier - 1]!;

/** Perks (badge, subscriber-only chat and videos) last while the subscription is paid or in its grace period. */
export const PERK_STATUSES = ['active', 'past_due'] as const satisfies readonly SubscriptionStatus[];
/** A subscription that may still become or stay paid: at most one per (subscriber, channel). */
export const CURRENT_STATUSES = ['incomplete', 'active', 'past_due'] as const satisfies readonly SubscriptionStatus[];

export const hasPerks = (status: SubscriptionStatus): boolean => (PERK_STATUSES as readonly string[]).includes(status);

export interface SubscriptionSplit {
  creator: bigint;
  platform: bigint;
  processing: bigint;
}

/**
 * Splits a paid period (or a gift of several): the provider's fee comes off first (never more
 * than the amount), the creator gets their share of what is left rounded down, the platform the rest.
 */
export function splitSubscription(amount: bigint, money: MoneyRules, creatorShareBps: number): SubscriptionSplit {
  if (amount <= 0n) throw new RangeError('A subscription payment must be positive');
  const fee = basisPoints(amount, money.processingFeeBps) + money.processingFeeFixed;
  const processing = fee < amount ? fee : amount;
  const creator = basisPoints(amount - processing, creatorShareBps);
  return { creator, platform: amount - processing - creator, processing };
}

/**
 * A paid period: the provider holds the amount less its fee, the fee is an expense, the
 * creator's share waits in pending earnings (the same hold as tips), and the platform books
 * the rest together with the fee it recovered.
 */
export function subscriptionShareLines(creatorId: string, amount: bigint, money: MoneyRules, creatorShareBps: number): Line[] {
  const split = splitSubscription(amount, money, creatorShareBps);
  const c = money.currency;
  return [
    debit(platformAccount('provider_clearing', c), amount - split.processing),
    debit(platformAccount('processing_fees', c), split.processing),
    credit(userAccount('earnings_pending', creatorId, c), split.creator),
    credit(platformAccount('platform_revenue', c), split.platform + split.processing),
  ];
}
