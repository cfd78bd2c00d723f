import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { AppEnv } from '../context.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';
import { createTokenBuckets } from '../../lib/token-buckets.ts';

export interface RateLimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
  /** Subjects counted separately, e.g. the client IP and the login name. */
  subjects: (c: Context<AppEnv>) => Promise<string[]> | string[];
}

function refuse(c: Context<AppEnv>, rule: RateLimitRule, retryAfterSeconds: number[]): never {
  const retryAfter = Math.max(...retryAfterSeconds);
  c.header('Retry-After', String(retryAfter));
  throw new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s`, { rule: rule.name, retryAfterSeconds: retryAfter });
}

/**
 * 429 with Retry-After when any subject of the rule is over its limit in this window, counted
 * in the table every API process shares: for limits that must hold however many processes
 * serve the requests (login, registration, uploads). One database write per subject and request.
 */
export function rateLimit(db: Db, rule: RateLimitRule) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const subjects = await rule.subjects(c);
    const decisions = await Promise.all(
      subjects.map((subject) => hitRateLimit(db, `${rule.name}:${subject}`, rule.limit, rule.windowSeconds)),
    );
    const refused = decisions.filter((d) => !d.allowed);
    if (refused.length) refuse(c, rule, refused.map((d) => d.retryAfterSeconds));
    await next();
  });
}

// Distinct subjects one process remembers at once (about 100 bytes each).
const TRACKED_SUBJECTS = 100_000;

/**
 * The same rule counted in this process's memory with a token bucket per subject (bursts of
 * `limit`, refilled at `limit` per window): no I/O on the request path, but each API process
 * counts on its own, so N processes let a client through up to N times the limit. For the
 * general ceiling, whose job is to keep one client from hogging a process.
 */
export function localRateLimit(rule: RateLimitRule) {
  const buckets = createTokenBuckets({ capacity: rule.limit, periodSeconds: rule.windowSeconds, maxKeys: TRACKED_SUBJECTS });
  return createMiddleware<AppEnv>(async (c, next) => {
    const refused = (await rule.subjects(c)).map((subject) => buckets.take(subject)).filter((d) => !d.allowed);
    if (refused.length) refuse(c, rule, refused.map((d) => d.retryAfterSeconds));
    await next();
  });
}
