import { describe, expect, it } from 'vitest';
import { formatCoins, formatMoney, parseMinor } from '../../../web/src/features/money/format.ts';

// The web app's money text: integer minor units shown through Intl.NumberFormat, and what a
// person types in the tip form read back into minor units without floating point.

describe('money text', () => {
  it('shows minor units as money in the currency’s own fraction digits', () => {
    expect(formatMoney(1400, 'USD', 'en-US')).toBe('$14.00');
    expect(formatMoney(5, 'USD', 'en-US')).toBe('$0.05');
    expect(formatMoney(-252, 'USD', 'en-US')).toBe('-$2.52');
    expect(formatMoney(500, 'JPY', 'en-US')).toBe('¥500');
    expect(formatMoney(123456, 'EUR', 'de-DE').replace(/\s/g, ' ')).toBe('1.234,56 €'); // Intl puts a no-break space before €
    expect(formatCoins(1000, 'en-US')).toBe('1,000 coins');
    expect(formatCoins(1, 'en-US')).toBe('1 coin');
  });

  it('reads typed amounts into minor units, and nothing else', () => {
    expect(parseMinor('5', 'USD')).toBe(500);
    expect(parseMinor(' 5.5 ', 'USD')).toBe(550);
    expect(parseMinor('5,05', 'USD')).toBe(505);
    expect(parseMinor('0.29', 'USD')).toBe(29); // no 0.29 * 100 = 28.999… surprise
    expect(parseMinor('500', 'JPY')).toBe(500);
    for (const bad of ['', 'abc', '5.555', '-5', '1e3', '5.5.5', '5.5', '$5']) {
      expect(parseMinor(bad, bad === '5.5' ? 'JPY' : 'USD'), bad).toBeNull();
    }
  });
});
