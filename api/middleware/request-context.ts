import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Logger } from '../../lib/logger.ts';
import type { HttpMetrics } from '../../lib/metrics.ts';
import type { AppEnv } from '../context.ts';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (reusing a sane incoming `x-request-id` so a proxy's id
 * follows the request), a child logger carrying it, an access log line and metrics.
 */
export function requestContext(logger: Logger, metrics: HttpMetrics) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('x-request-id', requestId);

    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    // The matched pattern, not the raw path, keeps metric cardinality bounded.
    const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
    const status = c.res.status;
    metrics.requests.inc({ method: c.req.method, route, status: String(status) });
    metrics.duration.observe({ method: c.req.method, route }, seconds);
    if (route !== '/health' && route !== '/metrics') {
      log.info({ method: c.req.method, path: c.req.path, route, status, ms: Math.round(seconds * 1000) }, 'request');
    }
  });
}
