import { describe, expect, it } from 'vitest';
import {
  averageConcurrentViewers,
  averageViewDuration,
  bucketEnd,
  bucketStart,
  bucketStarts,
  daysOf,
  DEFAULT_BUCKETS,
  hoursToRecompute,
  MAX_BUCKETS,
  MAX_CATCH_UP_HOURS,
  resolveRange,
  totalsOf,
  WATCH_CREDIT_MAX_SECONDS,
  zeroFilled,
  ZERO_COUNTS,
  type AnalyticsRange,
} from '../../lib/analytics.ts';

const at = (iso: string) => new Date(iso);
const now = at('2026-12-03T10:17:42.123Z');

describe('creator analytics rules (README "Creator analytics")', () => {
  it('has the README numbers: 31 days of hours or 366 days per request, 24 hours or 30 days by default, 60 s of watch time per heartbeat, 7 days of catch-up', () => {
    expect(MAX_BUCKETS).toEqual({ hour: 744, day: 366 });
    expect(DEFAULT_BUCKETS).toEqual({ hour: 24, day: 30 });
    expect(WATCH_CREDIT_MAX_SECONDS).toBe(60);
    expect(MAX_CATCH_UP_HOURS).toBe(168);
  });

  it('buckets in UTC: an hour or a day starts on its boundary and ends on the next', () => {
    expect(bucketStart(now, 'hour')).toEqual(at('2026-12-03T10:00:00Z'));
    expect(bucketStart(now, 'day')).toEqual(at('2026-12-03T00:00:00Z'));
    expect(bucketEnd(now, 'hour')).toEqual(at('2026-12-03T11:00:00Z'));
    expect(bucketEnd(now, 'day')).toEqual(at('2026-12-04T00:00:00Z'));
    // A boundary is its own bucket's start and the previous bucket's end.
    expect(bucketStart(at('2026-12-03T00:00:00Z'), 'day')).toEqual(at('2026-12-03T00:00:00Z'));
    expect(bucketEnd(at('2026-12-03T00:00:00Z'), 'day')).toEqual(at('2026-12-03T00:00:00Z'));
    // An offset is just another way to write the instant.
    expect(bucketStart(at('2026-12-03T01:30:00+02:00'), 'day')).toEqual(at('2026-12-02T00:00:00Z'));
  });

  it('rounds a range out to whole buckets and defaults to the last 24 hours or 30 days, the current bucket included', () => {
    expect(resolveRange({ granularity: 'hour', from: at('2026-12-01T10:30:00Z'), to: at('2026-12-01T12:10:00Z') }, now)).toEqual({
      granularity: 'hour',
      from: at('2026-12-01T10:00:00Z'),
      to: at('2026-12-01T13:00:00Z'),
    });
    expect(resolveRange({ granularity: 'day' }, now)).toEqual({ granularity: 'day', from: at('2026-11-04T00:00:00Z'), to: at('2026-12-04T00:00:00Z') });
    expect(resolveRange({ granularity: 'hour' }, now)).toEqual({ granularity: 'hour', from: at('2026-12-02T11:00:00Z'), to: at('2026-12-03T11:00:00Z') });
    expect(resolveRange({ granularity: 'day', from: at('2026-12-01') }, now)).toEqual({ granularity: 'day', from: at('2026-12-01T00:00:00Z'), to: at('2026-12-04T00:00:00Z') });
  });

  it('refuses a range whose start is not before its end, or that has too many buckets', () => {
    expect(resolveRange({ granularity: 'day', from: at('2026-12-02'), to: at('2026-12-02') }, now)).toEqual({ problem: '`from` must be before `to`' });
    expect(resolveRange({ granularity: 'day', from: at('2026-12-03'), to: at('2026-12-02') }, now)).toEqual({ problem: '`from` must be before `to`' });
    expect(resolveRange({ granularity: 'day', from: at('2026-12-10') }, now)).toEqual({ problem: '`from` must be before `to`' });
    // 31 days of hours is the most; one more hour is refused.
    expect(resolveRange({ granularity: 'hour', from: at('2026-11-01T00:00:00Z'), to: at('2026-12-02T00:00:00Z') }, now)).not.toHaveProperty('problem');
    expect(resolveRange({ granularity: 'hour', from: at('2026-11-01T00:00:00Z'), to: at('2026-12-02T00:00:01Z') }, now)).toEqual({
      problem: 'At most 744 hour buckets per request (31 days); this range has 745',
    });
    expect(resolveRange({ granularity: 'day', from: at('2025-12-01'), to: at('2026-12-02') }, now)).not.toHaveProperty('problem');
    expect(resolveRange({ granularity: 'day', from: at('2025-12-01'), to: at('2026-12-03') }, now)).toHaveProperty('problem');
  });

  it('zero-fills every bucket of the range, oldest first, with averages per bucket', () => {
    const range: AnalyticsRange = { granularity: 'hour', from: at('2026-12-03T08:00:00Z'), to: at('2026-12-03T11:00:00Z') };
    expect(bucketStarts(range)).toEqual([at('2026-12-03T08:00:00Z'), at('2026-12-03T09:00:00Z'), at('2026-12-03T10:00:00Z')]);
    const stored = { ...ZERO_COUNTS, bucketStart: at('2026-12-03T09:00:00Z'), views: 3, uniqueViewers: 2, watchTimeSeconds: 100.4, likes: 1, earnings: -50 };
    const series = zeroFilled(range, [stored]);
    expect(series).toEqual([
      { bucketStart: at('2026-12-03T08:00:00Z'), ...ZERO_COUNTS, averageViewDurationSeconds: 0 },
      { bucketStart: at('2026-12-03T09:00:00Z'), ...ZERO_COUNTS, views: 3, uniqueViewers: 2, watchTimeSeconds: 100, likes: 1, earnings: -50, averageViewDurationSeconds: 33 },
      { bucketStart: at('2026-12-03T10:00:00Z'), ...ZERO_COUNTS, averageViewDurationSeconds: 0 },
    ]);
    // A stored row outside the range is ignored.
    expect(zeroFilled(range, [{ ...stored, bucketStart: at('2026-12-03T11:00:00Z') }]).every((p) => p.views === 0)).toBe(true);
  });

  it('totals sum the buckets, average view duration is the sums’ ratio, and unique viewers have no total', () => {
    const range: AnalyticsRange = { granularity: 'day', from: at('2026-12-01'), to: at('2026-12-03') };
    const series = zeroFilled(range, [
      { ...ZERO_COUNTS, bucketStart: at('2026-12-01'), views: 1, uniqueViewers: 1, watchTimeSeconds: 10, comments: 2, newFollowers: 1, earnings: 900 },
      { ...ZERO_COUNTS, bucketStart: at('2026-12-02'), views: 3, uniqueViewers: 1, watchTimeSeconds: 90, likes: 4, earnings: -100 },
    ]);
    expect(totalsOf(series)).toEqual({ views: 4, watchTimeSeconds: 100, averageViewDurationSeconds: 25, likes: 4, comments: 2, newFollowers: 1, earnings: 800 });
    expect(averageViewDuration(100, 0)).toBe(0);
    expect(averageViewDuration(10, 4)).toBe(3); // 2.5 rounds up
  });

  it('averages concurrent viewers over every minute on air, minutes without a sample counting as zero', () => {
    const started = at('2026-12-03T09:00:00Z');
    expect(averageConcurrentViewers(30, started, at('2026-12-03T09:10:00Z'), now)).toBe(3);
    expect(averageConcurrentViewers(10, started, at('2026-12-03T09:03:00Z'), now)).toBe(3.3);
    // Live: up to now (77.7 minutes, so 78 started minutes).
    expect(averageConcurrentViewers(156, started, null, now)).toBe(2);
    expect(averageConcurrentViewers(5, started, started, now)).toBe(0);
  });

  it('recomputes the previous and current hour, or every hour since the last run after a pause, at most 7 days back', () => {
    const current = at('2026-12-03T10:00:00Z');
    expect(hoursToRecompute(null, now)).toEqual([at('2026-12-03T09:00:00Z'), current]);
    expect(hoursToRecompute(current, now)).toEqual([at('2026-12-03T09:00:00Z'), current]);
    expect(hoursToRecompute(at('2026-12-03T06:00:00Z'), now)).toEqual(
      [6, 7, 8, 9, 10].map((h) => at(`2026-12-03T${String(h).padStart(2, '0')}:00:00Z`)),
    );
    const longAgo = hoursToRecompute(at('2026-11-01T00:00:00Z'), now);
    expect(longAgo).toHaveLength(MAX_CATCH_UP_HOURS + 1);
    expect(longAgo[0]).toEqual(at('2026-11-26T10:00:00Z'));
    expect(daysOf([at('2026-12-02T23:00:00Z'), at('2026-12-03T00:00:00Z'), at('2026-12-03T01:00:00Z')])).toEqual([at('2026-12-02'), at('2026-12-03')]);
  });
});
