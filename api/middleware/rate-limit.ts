import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { AppEnv } from '../context.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';

export interface RateLimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
  /** Subjects counted separately, e.g. the client IP and the login name. */
  subjects: (c: Context<AppEnv>) => Promise<string[]> | string[];
}

/** 429 with Retry-After when any subject of the rule is over its limit in this window. */
export function rateLimit(db: Db, rule: RateLimitRule) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const subjects = await rule.subjects(c);
    const decisions = await Promise.all(
      subjects.map((subject) => hitRateLimit(db, `${rule.name}:${subject}`, rule.limit, rule.windowSeconds)),
    );
    const refused = decisions.filter((d) => !d.allowed);
    if (refused.length) {
      const retryAfter = Math.max(...refused.map((d) => d.retryAfterSeconds));
      c.header('Retry-After', String(retryAfter));
      throw new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s`, { rule: rule.name, retryAfterSeconds: retryAfter });
    }
    await next();
  });
}
