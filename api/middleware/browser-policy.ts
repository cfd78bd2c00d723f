import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { originAllowed } from '../../lib/origins.ts';
import type { AppEnv } from '../context.ts';

// What browsers are told about the API: which sites may call it (CORS) and the usual
// hardening headers. The allow-list rule is lib/origins.ts's, shared with the gateway.
// Headers are set on the finished response through `c.res.headers`: hono/cors (and
// `c.header()` after `next()`) turn @hono/node-server's lightweight response into a full
// fetch Response with a body stream, which measurably slows every request (bench/api).

/** Playlists and storyboards: web players on any site fetch them, without credentials. */
const PUBLIC_PLAYBACK = /^\/api\/v1\/videos\/[^/]+\/(hls\/|storyboard\.vtt$)/;

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'authorization, content-type, idempotency-key, x-request-id';
const EXPOSE_HEADERS = 'retry-after, x-request-id';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS for `/api/v1/*`: an allowed Origin is echoed back (requests carry bearer tokens, not
 * cookies, so no credentials mode); any other gets no CORS headers, so its browser neither
 * hands it the answer nor sends a request that needs a preflight.
 */
export function apiCors(allowedOrigins: readonly string[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header('origin');
    const anyOrigin = PUBLIC_PLAYBACK.test(c.req.path);
    const allowOrigin = anyOrigin ? '*' : origin && originAllowed(origin, allowedOrigins) ? origin : undefined;
    if (c.req.method === 'OPTIONS' && origin && c.req.header('access-control-request-method')) {
      const headers: Record<string, string> = anyOrigin ? {} : { vary: 'Origin' };
      if (allowOrigin) {
        Object.assign(headers, {
          'access-control-allow-origin': allowOrigin,
          'access-control-allow-methods': ALLOW_METHODS,
          'access-control-allow-headers': ALLOW_HEADERS,
          'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
        });
      }
      return c.body(null, 204, headers);
    }
    await next();
    const headers = c.res.headers;
    if (!anyOrigin) headers.append('vary', 'Origin');
    if (allowOrigin) {
      headers.set('access-control-allow-origin', allowOrigin);
      headers.set('access-control-expose-headers', EXPOSE_HEADERS);
    }
  });
}

/**
 * hono/secure-headers on every response (no CSP: the API answers JSON, and /docs runs
 * inline script). A header a route set itself is kept, see `readableCrossOrigin`.
 */
export const securityHeaders = secureHeaders({ overwrite: false });

/**
 * For responses other sites embed: a player reading a playlist through `<video src>` makes a
 * no-cors request, which `Cross-Origin-Resource-Policy: same-origin` would block.
 */
export const readableCrossOrigin = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
});
