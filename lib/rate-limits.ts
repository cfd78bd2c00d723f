import { sql } from 'kysely';
import type { Db } from './db.ts';

export interface RateLimitDecision {
  allowed: boolean;
  hits: number;
  retryAfterSeconds: number;
}

/**
 * Counts one hit for `key` in the current fixed window, in one statement, in the table
 * every API process shares, and says whether the hit is within `limit`. Windows are aligned
 * to the database clock, so processes with skewed clocks still agree on them. `at` (tests
 * only) pretends the hit happened at another time.
 */
export async function hitRateLimit(db: Db, key: string, limit: number, windowSeconds: number, at?: Date): Promise<RateLimitDecision> {
  const now = at ? sql`${at}::timestamptz` : sql`now()`;
  const { rows } = await sql<{ hits: number; retry_after: number }>`
    with w as (select to_timestamp(floor(extract(epoch from ${now}) / ${windowSeconds}) * ${windowSeconds}) as start, ${now} as now)
    insert into rate_limits (key, window_start, hits)
    select ${key}, w.start, 1 from w
    on conflict (key) do update set
      hits = case when rate_limits.window_start = excluded.window_start then rate_limits.hits + 1 else 1 end,
      window_start = excluded.window_start
    returning hits, ceil(extract(epoch from (window_start + make_interval(secs => ${windowSeconds}) - (select now from w))))::int as retry_after`.execute(db);
  const row = rows[0]!;
  return { allowed: row.hits <= limit, hits: row.hits, retryAfterSeconds: Math.max(1, row.retry_after) };
}

/**
 * A cooldown: allowed when `key` was last let through at least `seconds` ago (or never), and
 * then restarts its clock; refused hits do not. One statement on the same shared table, on
 * the database clock like `hitRateLimit`.
 */
export async function passCooldown(db: Db, key: string, seconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const { rows } = await sql<{ passed: boolean; retry_after: number }>`
    insert into rate_limits (key, window_start, hits) values (${key}, now(), 1)
    on conflict (key) do update set
      window_start = case when rate_limits.window_start <= now() - make_interval(secs => ${seconds}) then now() else rate_limits.window_start end,
      hits = rate_limits.hits + 1
    returning window_start = now() as passed,
      ceil(extract(epoch from (window_start + make_interval(secs => ${seconds}) - now())))::int as retry_after`.execute(db);
  const row = rows[0]!;
  return { allowed: row.passed, retryAfterSeconds: Math.max(1, row.retry_after) };
}
