import { describe, expect, it } from 'vitest';
import { dayAfter, dayBefore, formatDuration } from '../../../web/src/features/analytics/format.ts';

// How the analytics page writes durations and turns its included last day into the API's exclusive `to`.

describe('analytics page text', () => {
  it('writes durations as m:ss under an hour and h:mm:ss from one', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(59.9)).toBe('0:59');
    expect(formatDuration(123)).toBe('2:03');
    expect(formatDuration(3600)).toBe('1:00:00');
    expect(formatDuration(3723)).toBe('1:02:03');
  });

  it('asks for the day after the last day shown (the API’s `to` is exclusive), across month and year ends', () => {
    expect(dayAfter('2026-12-03')).toBe('2026-12-04');
    expect(dayAfter('2026-12-31')).toBe('2027-01-01');
    expect(dayBefore('2026-03-01')).toBe('2026-02-28');
    expect(dayBefore(dayAfter('2028-02-28'))).toBe('2028-02-28');
  });
});
