import type { Db } from './db.ts';
import { AppError } from './errors.ts';
import type { UserStatus } from './schema.ts';
import type { AccessClaims, TokenSigner } from './tokens.ts';

/** Why an account may not act right now, or undefined when it may. Pure. */
export function accountBlock(user: { status: UserStatus; suspended_until: Date | null }, now = new Date()): AppError | undefined {
  if (user.status === 'banned') return new AppError('account_banned', 'This account is banned');
  if (user.status === 'suspended' && (!user.suspended_until || user.suspended_until > now)) {
    const until = user.suspended_until ? ` until ${user.suspended_until.toISOString()}` : '';
    return new AppError('account_suspended', `This account is suspended${until}`);
  }
  return undefined;
}

/**
 * Verifies a bearer access token and that it may still act: unrevoked, of a live session,
 * of an account that is not deleted, suspended or banned. One SQL query. Used by the API
 * on every authenticated request and by the realtime gateway on connect.
 */
export async function verifyAccess(db: Db, tokens: TokenSigner, token: string): Promise<AccessClaims> {
  const claims = await tokens.verifyAccess(token);
  const row = await db
    .selectFrom('users')
    .select((eb) => [
      'users.role',
      'users.status',
      'users.suspended_until',
      'users.deleted_at',
      eb.exists(eb.selectFrom('revoked_access_tokens').select('jti').where('jti', '=', claims.jti)).as('revoked'),
      // Ending a session (logout, refresh-token reuse) ends every access token it issued.
      eb
        .exists(
          eb
            .selectFrom('auth_sessions')
            .select('id')
            .where('id', '=', claims.sessionId)
            .where('revoked_at', 'is', null)
            .where('expires_at', '>', new Date()),
        )
        .as('session_live'),
    ])
    .where('users.id', '=', claims.userId)
    .executeTakeFirst();
  if (!row || row.deleted_at) throw new AppError('unauthorized', 'Account no longer exists');
  if (row.revoked || !row.session_live) throw new AppError('token_revoked', 'Access token has been revoked; log in again');
  const block = accountBlock(row);
  if (block) throw block;
  // The role from the database, not the token: a demotion applies at once.
  return { ...claims, role: row.role };
}
