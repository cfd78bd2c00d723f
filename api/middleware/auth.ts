import { createMiddleware } from 'hono/factory';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { UserRole } from '../../lib/schema.ts';
import type { TokenSigner } from '../../lib/tokens.ts';
import type { AppEnv, AuthContext } from '../context.ts';
import { isAppealRoute, restrictedError, verifyAccess } from '../../lib/access.ts';

/**
 * Reads an optional bearer token. A token that is present must be valid, unrevoked, of a
 * live session, and belong to an account that may still act: suspending or banning a user, or logging out,
 * takes effect on the next request, not when the token expires. A restricted caller (a
 * sanctioned account, an appeal-scoped token) passes only on the appeal routes. Role comes
 * from the database so a demotion is immediate too.
 */
export function authenticate(db: Db, tokens: TokenSigner) {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('auth', undefined);
    const header = c.req.header('authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AppError('unauthorized', 'Authorization header must be "Bearer <token>"');
      c.set('auth', (await verifyAccess(db, tokens, match[1]!, { appealRoute: isAppealRoute(c.req.method, c.req.path) })) satisfies AuthContext);
    }
    await next();
  });
}

export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('auth')) throw new AppError('unauthorized', 'Sign in: this route needs a bearer access token');
  await next();
});

export function requireRole(...roles: UserRole[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = c.get('auth');
    if (!auth) throw new AppError('unauthorized', 'Sign in: this route needs a bearer access token');
    // A banned moderator's session reaches the appeal routes as the affected user, never as staff.
    if (auth.scope === 'appeal') throw restrictedError(undefined);
    if (!roles.includes(auth.role)) throw new AppError('forbidden', `Requires role ${roles.join(' or ')}`);
    await next();
  });
}

/** Route options of an operation that needs a signed-in user (OpenAPI security + the check). */
export const signedIn = { security: [{ bearerAuth: [] }], middleware: [requireAuth] };

/** Whether the caller owns the thing (or is an admin, who may act for any owner). */
export function ownerOrAdmin(auth: AuthContext | undefined, ownerId: string): boolean {
  return Boolean(auth && (auth.userId === ownerId || auth.role === 'admin'));
}

/** The signed-in user, for handlers behind requireAuth/requireRole. */
export function currentUser(c: { get(key: 'auth'): AuthContext | undefined }): AuthContext {
  const auth = c.get('auth');
  if (!auth) throw new AppError('unauthorized', 'Sign in: this route needs a bearer access token');
  return auth;
}
