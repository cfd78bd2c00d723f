import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { isUniqueViolation, type Db, type Tx } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Nats } from '../../lib/nats.ts';
import type { PasswordHasher } from '../../lib/passwords.ts';
import type { User } from '../../lib/schema.ts';
import { hashRefreshToken, newRefreshToken, type AccessScope, type TokenSigner } from '../../lib/tokens.ts';
import { accountBlock } from '../../lib/access.ts';
import { accountRestriction, type AccountRestriction } from '../../lib/moderation/store.ts';
import { publishSignOut } from '../../lib/sign-outs.ts';
import type { TwoFactorConfig } from '../../lib/config.ts';
import { createLoginChallenge, isTwoFactorEnabled } from './two-factor.ts';

export interface AuthDeps {
  db: Db;
  passwords: PasswordHasher;
  tokens: TokenSigner;
  /** Ending a session tells the realtime gateways, which sign its sockets out. */
  nats: Nats;
  refreshTtlDays: number;
  twoFactor: TwoFactorConfig;
}

/** What starting a session needs (the seed registers accounts without NATS). */
type SessionDeps = Omit<AuthDeps, 'nats' | 'twoFactor'>;

export interface ClientMeta {
  ip: string;
  userAgent: string | undefined;
}

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  /** `appeal` while the account is suspended or banned: the token reaches only what appealing needs. */
  access: AccessScope;
  /** Why the access is limited (status, until when, the cases behind it); null for full access. */
  restriction: AccountRestriction | null;
}

/** A new session (refresh-token family) with its first refresh token. */
async function insertSession(db: Db | Tx, deps: SessionDeps, userId: string, meta: ClientMeta) {
  const sessionId = randomUUID();
  const refresh = newRefreshToken();
  await db
    .insertInto('auth_sessions')
    .values({
      id: sessionId,
      user_id: userId,
      expires_at: sql<Date>`now() + make_interval(days => ${deps.refreshTtlDays})`,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip,
    })
    .execute();
  await db.insertInto('refresh_tokens').values({ token_hash: refresh.hash, session_id: sessionId }).execute();
  return { sessionId, refreshToken: refresh.token };
}

type TokenHolder = Pick<User, 'id' | 'role' | 'status' | 'suspended_until'>;

/** A full access token, or an appeal-scoped one while the account is suspended or banned. */
async function issueTokens(deps: SessionDeps, user: TokenHolder, session: { sessionId: string; refreshToken: string }): Promise<IssuedTokens> {
  const restricted = accountBlock(user) !== undefined;
  const scope: AccessScope = restricted ? 'appeal' : 'full';
  const access = await deps.tokens.signAccess({ userId: user.id, role: user.role, sessionId: session.sessionId, scope });
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.claims.expiresAt.toISOString(),
    refreshToken: session.refreshToken,
    access: scope,
    restriction: restricted ? await accountRestriction(deps.db, user) : null,
  };
}

export async function register(
  deps: SessionDeps,
  input: { email: string; username: string; password: string },
  meta: ClientMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  const passwordHash = await deps.passwords.hash(input.password);
  try {
    // Account and first session together: a failure leaves no account the client cannot log into.
    const { user, session } = await deps.db.transaction().execute(async (tx) => {
      const user = await tx
        .insertInto('users')
        .values({ email: input.email, username: input.username, password_hash: passwordHash, display_name: input.username })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { user, session: await insertSession(tx, deps, user.id, meta) };
    });
    return { user, tokens: await issueTokens(deps, user, session) };
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_key')) {
      throw new AppError('conflict', 'An account with this email already exists', [{ field: 'email', message: 'already registered' }]);
    }
    if (isUniqueViolation(err, 'users_username_key')) {
      throw new AppError('conflict', 'This username is taken', [{ field: 'username', message: 'already taken' }]);
    }
    throw err;
  }
}

function byLogin(db: Db, login: string) {
  const name = login.toLowerCase();
  return db
    .selectFrom('users')
    .where((eb) => eb.or([eb(sql`lower(email)`, '=', name), eb(sql`lower(username)`, '=', name)]))
    .where('deleted_at', 'is', null);
}

/** The account a login name (email or username) belongs to, for per-account rate limits. */
export async function findAccountId(db: Db, login: string): Promise<string | undefined> {
  return (await byLogin(db, login).select('id').executeTakeFirst())?.id;
}

/**
 * A right password signs in, or, for an account with two-factor sign-in on, earns a challenge
 * that `POST /auth/login/two-factor` trades with a code for the session.
 */
export async function login(deps: SessionDeps & { twoFactor: TwoFactorConfig }, input: { login: string; password: string }, meta: ClientMeta) {
  const user = await byLogin(deps.db, input.login).selectAll().executeTakeFirst();
  const valid = user ? await deps.passwords.verify(user.password_hash, input.password) : await deps.passwords.verifyAgainstNothing(input.password);
  if (!user || !valid) throw new AppError('invalid_credentials', 'Wrong login or password');
  if (await isTwoFactorEnabled(deps.db, user.id)) return { challenge: await createLoginChallenge(deps.db, deps.twoFactor, user.id) };
  return startSession(deps, user, meta);
}

/** The account a sign-in's two-factor step was for, if it still exists. */
export async function findLiveUser(db: Db, userId: string): Promise<User> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!user) throw new AppError('challenge_invalid', 'This sign-in step is not valid; sign in again');
  return user;
}

/** A new session for an account that proved who it is. */
export async function startSession(deps: SessionDeps, user: User, meta: ClientMeta): Promise<{ user: User; tokens: IssuedTokens }> {
  // A suspended or banned account still signs in, with an appeal-scoped token (see issueTokens).
  const session = await deps.db.transaction().execute((tx) => insertSession(tx, deps, user.id, meta));
  return { user, tokens: await issueTokens(deps, user, session) };
}

/**
 * Rotates a refresh token. Presenting one that was already rotated means it leaked (or a
 * client raced itself): the whole session family is revoked, as OAuth 2.0 Security BCP advises.
 */
export async function refresh(deps: AuthDeps, refreshToken: string): Promise<IssuedTokens> {
  const hash = hashRefreshToken(refreshToken);
  const next = newRefreshToken();
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('refresh_tokens as t')
      .innerJoin('auth_sessions as s', 's.id', 't.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['t.rotated_at', 's.id as session_id', 's.revoked_at', 's.expires_at', 'u.id as user_id', 'u.role', 'u.status', 'u.suspended_until', 'u.deleted_at'])
      .where('t.token_hash', '=', hash)
      .forUpdate('t')
      .executeTakeFirst();
    if (!row) return { error: new AppError('unauthorized', 'Unknown refresh token') };
    if (row.revoked_at) return { error: new AppError('token_revoked', 'This session has ended; log in again') };
    if (row.rotated_at) {
      await tx
        .updateTable('auth_sessions')
        .set({ revoked_at: sql`now()`, revoked_reason: 'refresh_token_reused' })
        .where('id', '=', row.session_id)
        .execute();
      return {
        error: new AppError('refresh_token_reused', 'Refresh token was already used; the session has been revoked'),
        revoked: { userId: row.user_id, sessionId: row.session_id },
      };
    }
    if (row.expires_at <= new Date()) return { error: new AppError('token_expired', 'This session has expired; log in again') };
    if (row.deleted_at) return { error: new AppError('unauthorized', 'Account no longer exists') };
    await tx.updateTable('refresh_tokens').set({ rotated_at: sql`now()` }).where('token_hash', '=', hash).execute();
    await tx.insertInto('refresh_tokens').values({ token_hash: next.hash, session_id: row.session_id }).execute();
    await tx.updateTable('auth_sessions').set({ last_used_at: sql`now()` }).where('id', '=', row.session_id).execute();
    return { session: row };
  });
  // The revocation above must commit, so errors are thrown (and gateways told) only after the transaction.
  if ('error' in outcome) {
    if ('revoked' in outcome && outcome.revoked) publishSignOut(deps.nats, { ...outcome.revoked, reason: 'refresh_token_reused' });
    throw outcome.error;
  }
  const { session } = outcome;
  return issueTokens(deps, { id: session.user_id, role: session.role, status: session.status, suspended_until: session.suspended_until }, { sessionId: session.session_id, refreshToken: next.token });
}

/** Ends the session behind the access token, blacklists the token until it expires, and signs the session's sockets out. */
export async function logout(deps: AuthDeps, auth: { userId: string; sessionId: string; jti: string; expiresAt: Date }): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('revoked_access_tokens')
      .values({ jti: auth.jti, expires_at: auth.expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
    await tx
      .updateTable('auth_sessions')
      .set({ revoked_at: sql`now()`, revoked_reason: 'logout' })
      .where('id', '=', auth.sessionId)
      .where('revoked_at', 'is', null)
      .execute();
  });
  publishSignOut(deps.nats, { userId: auth.userId, sessionId: auth.sessionId, reason: 'logout' });
}
