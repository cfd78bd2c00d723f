import { describe, expect, it } from 'vitest';
import { eventWeight, TRENDING_WEIGHTS, trendingScore, type TrendingRules } from '../../lib/trending.ts';

const rules: TrendingRules = { halfLifeHours: 24, windowHours: 72 };
const now = new Date('2026-12-02T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

describe('trending score (README "Trending")', () => {
  it('weighs a view 1, a like 3 and a comment 5 when fresh', () => {
    expect(TRENDING_WEIGHTS).toEqual({ view: 1, like: 3, comment: 5 });
    expect(eventWeight({ kind: 'view', at: now }, now, rules)).toBe(1);
    expect(eventWeight({ kind: 'like', at: now }, now, rules)).toBe(3);
    expect(eventWeight({ kind: 'comment', at: now }, now, rules)).toBe(5);
  });

  it('halves an event’s weight every half-life', () => {
    expect(eventWeight({ kind: 'like', at: hoursAgo(24) }, now, rules)).toBeCloseTo(1.5, 12);
    expect(eventWeight({ kind: 'like', at: hoursAgo(48) }, now, rules)).toBeCloseTo(0.75, 12);
    expect(eventWeight({ kind: 'view', at: hoursAgo(12) }, now, { ...rules, halfLifeHours: 12 })).toBeCloseTo(0.5, 12);
  });

  it('reads nothing older than the window, and counts an event from the future as now', () => {
    expect(eventWeight({ kind: 'comment', at: hoursAgo(72) }, now, rules)).toBeCloseTo(5 / 8, 12);
    expect(eventWeight({ kind: 'comment', at: hoursAgo(72.01) }, now, rules)).toBe(0);
    expect(eventWeight({ kind: 'view', at: hoursAgo(-5) }, now, rules)).toBe(1);
  });

  it('sums the events, so fresh engagement outranks a larger but older burst', () => {
    const fresh = [{ kind: 'like' as const, at: hoursAgo(1) }, { kind: 'comment' as const, at: hoursAgo(2) }];
    const oldBurst = Array.from({ length: 10 }, () => ({ kind: 'view' as const, at: hoursAgo(48) }));
    expect(trendingScore(oldBurst, now, rules)).toBeCloseTo(2.5, 12);
    expect(trendingScore(fresh, now, rules)).toBeGreaterThan(trendingScore(oldBurst, now, rules));
    expect(trendingScore([], now, rules)).toBe(0);
  });
});
