import { sql } from 'kysely';
import { prepared, type Db } from './db.ts';
import { AppError } from './errors.ts';
import type { UserRole, UserStatus } from './schema.ts';
import type { SignOutReason } from './sign-outs.ts';
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

// What a suspended or banned account may still reach, and what an appeal-scoped token
// reaches at all: its own notifications and account, the decisions about it, and appealing them.
const APPEAL_ROUTES: readonly (readonly [method: string, path: RegExp])[] = [
  ['GET', /^\/api\/v1\/notifications\/?$/],
  ['POST', /^\/api\/v1\/notifications\/read$/],
  ['GET', /^\/api\/v1\/users\/me$/],
  ['POST', /^\/api\/v1\/auth\/logout$/],
  ['GET', /^\/api\/v1\/moderation\/my-cases$/],
  ['GET', /^\/api\/v1\/moderation\/cases\/[^/]+$/],
  ['POST', /^\/api\/v1\/moderation\/cases\/[^/]+\/appeal$/],
  ['GET', /^\/api\/v1\/moderation\/cases\/[^/]+\/appeal\/messages$/],
  ['POST', /^\/api\/v1\/moderation\/cases\/[^/]+\/appeal\/messages$/],
];

/** Whether a restricted (appeal-scoped) caller may use this route. Pure. */
export function isAppealRoute(method: string, path: string): boolean {
  return APPEAL_ROUTES.some(([m, pattern]) => m === method && pattern.test(path));
}

/** The refusal of a restricted caller outside the appeal routes. */
export function restrictedError(block: AppError | undefined): AppError {
  const why = block ? `${block.message}: ` : '';
  return new AppError('account_restricted', `${why}this session may only read your notifications, account and moderation cases, and appeal; refresh once the restriction ends`, {
    allowed: 'appeal',
  });
}

/**
 * Verifies a bearer access token and that it may still act: unrevoked, of a live session,
 * of an account that is not deleted. A suspended or banned account, or an appeal-scoped
 * token, is restricted: it passes only where `appealRoute` is set (see `isAppealRoute`), and the
 * claims it returns say `scope: 'appeal'`. One SQL query. Used by the API on every
 * authenticated request and by the realtime gateway on connect (never an appeal route).
 */
export async function verifyAccess(db: Db, tokens: TokenSigner, token: string, options: { appealRoute?: boolean } = {}): Promise<AccessClaims> {
  const claims = await tokens.verifyAccess(token);
  // Prepared: every authenticated request runs it.
  const { rows } = await prepared(sql<{ role: UserRole; status: UserStatus; suspended_until: Date | null; deleted_at: Date | null; revoked: boolean; session_live: boolean }>`
    select u.role, u.status, u.suspended_until, u.deleted_at,
      exists (select from revoked_access_tokens where jti = ${claims.jti}) as revoked,
      -- Ending a session (logout, refresh-token reuse) ends every access token it issued.
      exists (select from auth_sessions where id = ${claims.sessionId}::uuid and revoked_at is null and expires_at > now()) as session_live
    from users u where u.id = ${claims.userId}::uuid`).execute(db);
  const row = rows[0];
  if (!row || row.deleted_at) throw new AppError('unauthorized', 'Account no longer exists');
  if (row.revoked || !row.session_live) throw new AppError('token_revoked', 'Access token has been revoked; log in again');
  const block = accountBlock(row);
  const restricted = block !== undefined || claims.scope === 'appeal';
  if (restricted && !options.appealRoute) {
    // A full token of a newly sanctioned account names the sanction, as it always has;
    // an appeal-scoped token says what it is for.
    throw claims.scope === 'appeal' ? restrictedError(block) : block!;
  }
  // The role from the database, not the token: a demotion applies at once.
  return { ...claims, role: row.role, scope: restricted ? 'appeal' : 'full' };
}

interface SessionState {
  revoked_at: Date | null;
  revoked_reason: string | null;
  expires_at: Date;
  status: UserStatus;
  suspended_until: Date | null;
  deleted_at: Date | null;
}

/** Why a session (with its account) may no longer act, or undefined while it may. Pure. */
export function sessionEndReason(session: SessionState, now = new Date()): SignOutReason | undefined {
  if (session.deleted_at) return 'account_deleted';
  const block = accountBlock(session, now);
  if (block) return block.code === 'account_banned' ? 'account_banned' : 'account_suspended';
  if (session.revoked_at) return session.revoked_reason === 'logout' || session.revoked_reason === 'refresh_token_reused' ? session.revoked_reason : 'session_ended';
  if (session.expires_at <= now) return 'session_ended';
  return undefined;
}

/**
 * Of these sessions, the ones that have ended and why: what `verifyAccess` would now refuse
 * for their tokens. One query per five thousand sessions, returning only the few that may
 * have ended (a session that is gone has ended).
 */
export async function endedSessions(db: Db, sessionIds: readonly string[]): Promise<Map<string, SignOutReason>> {
  const ended = new Map<string, SignOutReason>();
  const now = new Date();
  for (let i = 0; i < sessionIds.length; i += 5000) {
    const batch = sessionIds.slice(i, i + 5000);
    const { rows } = await sql<SessionState & { id: string; found: boolean }>`
      select c.id, s.id is not null as found, s.revoked_at, s.revoked_reason, s.expires_at, u.status, u.suspended_until, u.deleted_at
      from unnest(${batch}::uuid[]) as c(id)
      left join auth_sessions s on s.id = c.id
      left join users u on u.id = s.user_id
      where s.id is null or s.revoked_at is not null or s.expires_at <= ${now} or u.status <> 'active' or u.deleted_at is not null`.execute(db);
    for (const row of rows) {
      const reason = row.found ? sessionEndReason(row, now) : 'session_ended';
      if (reason) ended.set(row.id, reason);
    }
  }
  return ended;
}
