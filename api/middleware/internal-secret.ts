import { createMiddleware } from 'hono/factory';
import { AppError } from '../../lib/errors.ts';
import { secretsEqual } from '../../lib/secrets.ts';
import type { AppEnv } from '../context.ts';

/**
 * Guards /internal routes (nginx-rtmp hooks, operator probes). nginx-rtmp can only add
 * query parameters to its callbacks, so the secret is accepted as `?secret=` as well.
 */
export function requireInternalSecret(secret: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const given = c.req.header('x-internal-secret') ?? c.req.query('secret');
    if (!secretsEqual(given, secret)) throw new AppError('unauthorized', 'Missing or wrong internal secret');
    await next();
  });
}
