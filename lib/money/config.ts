import { z } from 'zod';
import { ConfigError } from '../config.ts';
import type { MoneyRules } from './rules.ts';

// The money rules' variables (README, "Configuration"), read here until they join the `money`
// block of lib/config.ts: callers pass the environment record that lib/config.ts hands out
// (`processEnv()`), so this module reads no process state itself.

const bps = z.coerce.number().int().min(0).max(10_000);
const moneyEnvSchema = z.object({
  PLATFORM_FEE_BPS: bps.default(1000),
  PAYMENT_FEE_BPS: bps.default(290),
  PAYMENT_FEE_FIXED_MINOR: z.coerce.number().int().min(0).max(1_000_000).default(30),
  COIN_CREATOR_VALUE_MINOR: z.coerce.number().int().min(1).max(1_000_000).default(1),
});

/** The deployment's money rules from its environment, in `currency` (the settlement currency). */
export function moneyRulesFromEnvironment(env: Record<string, string | undefined>, currency: string): MoneyRules {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = moneyEnvSchema.safeParse(set);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    currency,
    platformFeeBps: e.PLATFORM_FEE_BPS,
    processingFeeBps: e.PAYMENT_FEE_BPS,
    processingFeeFixed: BigInt(e.PAYMENT_FEE_FIXED_MINOR),
    coinCreatorValue: BigInt(e.COIN_CREATOR_VALUE_MINOR),
  };
}
