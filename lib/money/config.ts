import type { Config } from '../config.ts';
import type { MoneyRules } from './rules.ts';

/** The deployment's money rules, from its config (amounts become bigint here, once). */
export function moneyRules(config: Pick<Config, 'money'>): MoneyRules {
  const m = config.money;
  return {
    currency: m.settlementCurrency,
    platformFeeBps: m.platformFeeBps,
    processingFeeBps: m.paymentFeeBps,
    processingFeeFixed: BigInt(m.paymentFeeFixedMinor),
    coinCreatorValue: BigInt(m.coinCreatorValueMinor),
  };
}
