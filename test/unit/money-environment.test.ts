import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.ts';
import { moneyRulesFromEnvironment } from '../../lib/money/config.ts';

describe('money rules from the environment', () => {
  it('defaults to a 10% platform fee, 2.9% + 30 minor units processing and 1 minor unit a coin', () => {
    expect(moneyRulesFromEnvironment({}, 'USD')).toEqual({ currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n });
    expect(moneyRulesFromEnvironment({ PLATFORM_FEE_BPS: '500', PAYMENT_FEE_FIXED_MINOR: '', COIN_CREATOR_VALUE_MINOR: '2' }, 'EUR')).toMatchObject({
      currency: 'EUR',
      platformFeeBps: 500,
      processingFeeFixed: 30n,
      coinCreatorValue: 2n,
    });
  });

  it('refuses values out of range, naming every bad variable', () => {
    const err = (() => {
      try {
        moneyRulesFromEnvironment({ PLATFORM_FEE_BPS: '10001', COIN_CREATOR_VALUE_MINOR: '0' }, 'USD');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['COIN_CREATOR_VALUE_MINOR', 'PLATFORM_FEE_BPS']);
  });
});
