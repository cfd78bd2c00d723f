import { COIN, platformAccount, userAccount } from '../ledger/chart.ts';
import { basisPoints, credit, debit, type Line } from '../ledger/rules.ts';

// How money coming in is split and booked: pure functions from amounts to ledger lines, so
// every rule (fees, rounding, the coin rate) is unit-tested and every flow books the same way.
// Amounts are integer minor units of the settlement currency; coins are whole coins.

export interface MoneyRules {
  /** ISO 4217 code every tip and coin pack is priced in. */
  currency: string;
  /** The platform's share of a tip, in basis points of the amount. */
  platformFeeBps: number;
  /** The payment provider's fee estimate: basis points of the amount plus a fixed part. */
  processingFeeBps: number;
  processingFeeFixed: bigint;
  /** What a creator earns for each coin spent on them, in minor units (Twitch: 1 cent a bit). */
  coinCreatorValue: bigint;
}

export interface TipSplit {
  creator: bigint;
  platform: bigint;
  processing: bigint;
}

/**
 * Splits a tip: the platform fee is rounded down (the remainder goes to the creator), and the
 * processing fee, recovered from the creator's share, never takes more than is left.
 */
export function splitTip(amount: bigint, rules: MoneyRules): TipSplit {
  if (amount <= 0n) throw new RangeError('A tip must be positive');
  const platform = basisPoints(amount, rules.platformFeeBps);
  const fee = basisPoints(amount, rules.processingFeeBps) + rules.processingFeeFixed;
  const processing = fee < amount - platform ? fee : amount - platform;
  return { creator: amount - platform - processing, platform, processing };
}

/**
 * A paid tip: the provider holds the amount less its fee (clearing), the fee is an expense,
 * the creator's share waits in pending, and the platform books its fee plus the processing fee
 * it recovered from the creator.
 */
export function tipLines(creatorId: string, amount: bigint, rules: MoneyRules): Line[] {
  const split = splitTip(amount, rules);
  const c = rules.currency;
  return [
    debit(platformAccount('provider_clearing', c), amount - split.processing),
    debit(platformAccount('processing_fees', c), split.processing),
    credit(userAccount('earnings_pending', creatorId, c), split.creator),
    credit(platformAccount('platform_revenue', c), split.platform + split.processing),
  ];
}

/** The value owed to creators for `coins`, once spent. */
export const coinValue = (coins: bigint, rules: MoneyRules): bigint => coins * rules.coinCreatorValue;

/**
 * A paid coin pack: coins are issued into the buyer's wallet; the money side books the
 * coins' creator value as a liability until spent, the rest (less the provider's fee) as revenue.
 */
export function coinPurchaseLines(buyerId: string, coins: bigint, price: bigint, rules: MoneyRules): Line[] {
  if (coins <= 0n) throw new RangeError('A coin pack holds coins');
  const liability = coinValue(coins, rules);
  if (price < liability) throw new RangeError(`A pack of ${coins} coins must cost at least their creator value ${liability}`);
  const processing = minBig(basisPoints(price, rules.processingFeeBps) + rules.processingFeeFixed, price);
  const c = rules.currency;
  return [
    debit(platformAccount('coin_issuance', COIN), coins),
    credit(userAccount('coin_wallet', buyerId, COIN), coins),
    debit(platformAccount('provider_clearing', c), price - processing),
    debit(platformAccount('processing_fees', c), processing),
    credit(platformAccount('coin_liability', c), liability),
    credit(platformAccount('platform_revenue', c), price - liability),
  ];
}

/** Coins spent on a gift: they leave the wallet (burned), their value moves to the creator's pending. */
export function giftLines(senderId: string, creatorId: string, coins: bigint, rules: MoneyRules): Line[] {
  if (coins <= 0n) throw new RangeError('A gift costs coins');
  const value = coinValue(coins, rules);
  return [
    debit(userAccount('coin_wallet', senderId, COIN), coins),
    credit(platformAccount('coin_issuance', COIN), coins),
    debit(platformAccount('coin_liability', rules.currency), value),
    credit(userAccount('earnings_pending', creatorId, rules.currency), value),
  ];
}

/** Earnings whose hold has passed move from pending to available. */
export function maturationLines(creatorId: string, amount: bigint, currency: string): Line[] {
  return [debit(userAccount('earnings_pending', creatorId, currency), amount), credit(userAccount('earnings_available', creatorId, currency), amount)];
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
