import { getConnInfo } from '@hono/node-server/conninfo';
import { createMiddleware } from 'hono/factory';
import { clientAddress } from '../../lib/client-address.ts';
import type { AppEnv } from '../context.ts';

/** The client's address for rate limits and session records (the rule is `clientAddress`). */
export function clientIp(trustProxy: boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let remote: string | undefined;
    try {
      remote = getConnInfo(c).remote.address;
    } catch {
      // in-process requests (tests, app.request) have no socket
    }
    c.set('clientIp', clientAddress({ forwardedFor: c.req.header('x-forwarded-for'), remote, trustProxy }));
    await next();
  });
}
