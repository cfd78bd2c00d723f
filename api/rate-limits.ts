import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';

export interface RateLimitDecision {
  allowed: boolean;
  hits: number;
  retryAfterSeconds: number;
}

/** Aligned fixed windows: every API process computes the same window for the same instant. */
export function windowStart(nowMs: number, windowSeconds: number): Date {
  const windowMs = windowSeconds * 1000;
  return new Date(Math.floor(nowMs / windowMs) * windowMs);
}

/**
 * Counts one hit for `key` in the current window, in one statement, in the table every API
 * process shares, and says whether the hit is within `limit`.
 */
export async function hitRateLimit(db: Db, key: string, limit: number, windowSeconds: number, nowMs = Date.now()): Promise<RateLimitDecision> {
  const start = windowStart(nowMs, windowSeconds);
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: start, hits: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        hits: sql`case when rate_limits.window_start = excluded.window_start then rate_limits.hits + 1 else 1 end`,
        window_start: sql`excluded.window_start`,
      }),
    )
    .returning(['hits'])
    .executeTakeFirstOrThrow();
  const retryAfterSeconds = Math.max(1, Math.ceil((start.getTime() + windowSeconds * 1000 - nowMs) / 1000));
  return { allowed: row.hits <= limit, hits: row.hits, retryAfterSeconds };
}
