// Trending (README, "Trending"): a video's score is the sum over its recent events of the
// event's weight halved every `halfLifeHours` of age. Pure, so the formula is unit-tested
// and the recompute's SQL (activities/trending.ts) is checked against it.

export type TrendingEventKind = 'view' | 'like' | 'comment';

/** A like says more than a view, a comment more than a like (effort spent on the video). */
export const TRENDING_WEIGHTS: Readonly<Record<TrendingEventKind, number>> = { view: 1, like: 3, comment: 5 };

export interface TrendingRules {
  halfLifeHours: number;
  /** Events older than this are not read at all (their weight is negligible by then). */
  windowHours: number;
}

export interface TrendingEvent {
  kind: TrendingEventKind;
  at: Date;
}

/** One event's contribution at `now`: nothing outside the window; an event from the future counts as now. */
export function eventWeight(event: TrendingEvent, now: Date, rules: TrendingRules): number {
  const ageHours = Math.max(0, now.getTime() - event.at.getTime()) / 3_600_000;
  if (ageHours > rules.windowHours) return 0;
  return TRENDING_WEIGHTS[event.kind] * 2 ** (-ageHours / rules.halfLifeHours);
}

export function trendingScore(events: readonly TrendingEvent[], now: Date, rules: TrendingRules): number {
  return events.reduce((sum, event) => sum + eventWeight(event, now, rules), 0);
}
