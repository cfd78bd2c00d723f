import { getConnInfo } from '@hono/node-server/conninfo';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';

/**
 * The client's address for rate limits and session records. X-Forwarded-For is believed
 * only when TRUST_PROXY is set (behind exactly one proxy of ours), and only its last entry;
 * otherwise anyone could pick an address.
 */
export function clientIp(trustProxy: boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let ip: string | undefined;
    // The proxy appends the address it saw; anything left of it came from the client.
    if (trustProxy) ip = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (!ip) {
      try {
        ip = getConnInfo(c).remote.address;
      } catch {
        // in-process requests (tests, app.request) have no socket
      }
    }
    c.set('clientIp', ip || 'unknown');
    await next();
  });
}
