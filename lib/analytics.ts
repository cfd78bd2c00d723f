// Creator analytics (README, "Creator analytics"): bucket boundaries, ranges, zero-filling and
// averages. Pure, so the rules are unit-tested and the rollup (activities/analytics.ts) and
// the route (api/creators/analytics.ts) share them. Every bucket is in UTC.

import type { AnalyticsGranularity } from './schema.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const BUCKET_MS: Readonly<Record<AnalyticsGranularity, number>> = { hour: HOUR_MS, day: DAY_MS };

/** Most buckets one request may ask for: 31 days of hours, 366 days. */
export const MAX_BUCKETS: Readonly<Record<AnalyticsGranularity, number>> = { hour: 31 * 24, day: 366 };
/** What a request without `from` gets: the last 24 hours, or the last 30 days. */
export const DEFAULT_BUCKETS: Readonly<Record<AnalyticsGranularity, number>> = { hour: 24, day: 30 };

/** A heartbeat adds at most this to watch time, however long since the viewer's previous one (the player sends one every 15 s). */
export const WATCH_CREDIT_MAX_SECONDS = 60;
/** After a pause in the Schedule (a worker down), a run recomputes at most this many past hours. */
export const MAX_CATCH_UP_HOURS = 7 * 24;

/** The start of the UTC bucket holding `at`. */
export function bucketStart(at: Date, granularity: AnalyticsGranularity): Date {
  const size = BUCKET_MS[granularity];
  return new Date(Math.floor(at.getTime() / size) * size);
}

/** The first bucket boundary at or after `at`. */
export function bucketEnd(at: Date, granularity: AnalyticsGranularity): Date {
  const size = BUCKET_MS[granularity];
  return new Date(Math.ceil(at.getTime() / size) * size);
}

export interface AnalyticsRange {
  granularity: AnalyticsGranularity;
  /** Inclusive, a bucket boundary. */
  from: Date;
  /** Exclusive, a bucket boundary. */
  to: Date;
}

/**
 * The buckets a request covers: `from` is rounded down and `to` up to bucket boundaries; without
 * `to` the range ends with the current bucket, without `from` it starts DEFAULT_BUCKETS before
 * `to`. Answers a reason instead when `from` is not before `to` or the range has too many buckets.
 */
export function resolveRange(input: { granularity: AnalyticsGranularity; from?: Date; to?: Date }, now: Date): AnalyticsRange | { problem: string } {
  const { granularity } = input;
  const size = BUCKET_MS[granularity];
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) return { problem: '`from` must be before `to`' };
  const to = input.to ? bucketEnd(input.to, granularity) : new Date(bucketStart(now, granularity).getTime() + size);
  const from = input.from ? bucketStart(input.from, granularity) : new Date(to.getTime() - DEFAULT_BUCKETS[granularity] * size);
  if (from.getTime() >= to.getTime()) return { problem: '`from` must be before `to`' };
  const buckets = (to.getTime() - from.getTime()) / size;
  if (buckets > MAX_BUCKETS[granularity]) {
    return { problem: `At most ${MAX_BUCKETS[granularity]} ${granularity} buckets per request (${granularity === 'hour' ? '31 days' : '366 days'}); this range has ${buckets}` };
  }
  return { granularity, from, to };
}

/** Every bucket start of a range, oldest first. */
export function bucketStarts(range: AnalyticsRange): Date[] {
  const size = BUCKET_MS[range.granularity];
  const starts: Date[] = [];
  for (let at = range.from.getTime(); at < range.to.getTime(); at += size) starts.push(new Date(at));
  return starts;
}

export interface BucketCounts {
  views: number;
  uniqueViewers: number;
  watchTimeSeconds: number;
  likes: number;
  comments: number;
  newFollowers: number;
  /** Minor units of the settlement currency, net of refunds. */
  earnings: number;
}

export const ZERO_COUNTS: Readonly<BucketCounts> = { views: 0, uniqueViewers: 0, watchTimeSeconds: 0, likes: 0, comments: 0, newFollowers: 0, earnings: 0 };

/** Watch time divided by views, rounded to the second; 0 without views. */
export function averageViewDuration(watchTimeSeconds: number, views: number): number {
  return views > 0 ? Math.round(watchTimeSeconds / views) : 0;
}

export type SeriesPoint = BucketCounts & { bucketStart: Date; averageViewDurationSeconds: number };

/** One point per bucket of the range, zeros where no row was stored (no activity), so charts have no holes. */
export function zeroFilled(range: AnalyticsRange, rows: ReadonlyArray<BucketCounts & { bucketStart: Date }>): SeriesPoint[] {
  const byStart = new Map(rows.map((r) => [r.bucketStart.getTime(), r]));
  return bucketStarts(range).map((start) => {
    const { views, uniqueViewers, watchTimeSeconds, likes, comments, newFollowers, earnings } = byStart.get(start.getTime()) ?? ZERO_COUNTS;
    const watched = Math.round(watchTimeSeconds);
    return { bucketStart: start, views, uniqueViewers, watchTimeSeconds: watched, likes, comments, newFollowers, earnings, averageViewDurationSeconds: averageViewDuration(watched, views) };
  });
}

/**
 * The range's totals: sums of the buckets, the average view duration of those sums. Unique
 * viewers are left out: one viewer is unique in every bucket they watched in, so a sum would overcount.
 */
export function totalsOf(series: readonly SeriesPoint[]): Omit<BucketCounts, 'uniqueViewers'> & { averageViewDurationSeconds: number } {
  const sum = (key: keyof BucketCounts) => series.reduce((total, p) => total + p[key], 0);
  const views = sum('views');
  const watchTimeSeconds = sum('watchTimeSeconds');
  return {
    views,
    watchTimeSeconds,
    averageViewDurationSeconds: averageViewDuration(watchTimeSeconds, views),
    likes: sum('likes'),
    comments: sum('comments'),
    newFollowers: sum('newFollowers'),
    earnings: sum('earnings'),
  };
}

/**
 * A broadcast's average concurrent viewers: the per-minute samples summed over every minute it
 * was on air (started to ended, or to `now` while live); a minute without a sample had no viewer
 * on any gateway and counts as 0. Rounded to one decimal.
 */
export function averageConcurrentViewers(sampleSum: number, startedAt: Date, endedAt: Date | null, now: Date): number {
  const minutes = Math.ceil(((endedAt ?? now).getTime() - startedAt.getTime()) / 60_000);
  if (minutes <= 0) return 0;
  return Math.round((sampleSum / minutes) * 10) / 10;
}

/**
 * The hours a rollup run at `now` recomputes: from the hour the previous run reached (it may
 * have been partial then), or the previous hour if that is earlier, through the current hour;
 * never more than MAX_CATCH_UP_HOURS back.
 */
export function hoursToRecompute(lastComputedHour: Date | null, now: Date): Date[] {
  const current = bucketStart(now, 'hour').getTime();
  const floor = current - MAX_CATCH_UP_HOURS * HOUR_MS;
  let start = current - HOUR_MS;
  if (lastComputedHour && lastComputedHour.getTime() < start) start = Math.max(floor, lastComputedHour.getTime());
  const hours: Date[] = [];
  for (let at = start; at <= current; at += HOUR_MS) hours.push(new Date(at));
  return hours;
}

/** The UTC days those hours fall in, oldest first. */
export function daysOf(hours: readonly Date[]): Date[] {
  return [...new Set(hours.map((h) => bucketStart(h, 'day').getTime()))].sort((a, b) => a - b).map((t) => new Date(t));
}
