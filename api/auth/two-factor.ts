import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { toString as qrCodeString } from 'qrcode';
import type { TwoFactorConfig } from '../../lib/config.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Nats } from '../../lib/nats.ts';
import { insertNotifications, mailNotificationEvent, pushNotifications, type StoredNotification, type WorkflowStarter } from '../../lib/notifications.ts';
import type { PasswordHasher } from '../../lib/passwords.ts';
import { createSecretBox, twoFactorKey, type SecretBox } from '../../lib/secret-box.ts';
import { publishSignOut } from '../../lib/sign-outs.ts';
import { hashRefreshToken, newRefreshToken } from '../../lib/tokens.ts';
import { acceptedStep, hashRecoveryCode, newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, otpauthUri } from '../../lib/two-factor.ts';

// Optional TOTP two-factor sign-in (README, "Two-factor sign-in"): enrolment, the recovery
// codes, and the challenge a right password earns an account that has it on.

export const TOTP_ISSUER = 'StreamHub';

export interface TwoFactorDeps {
  db: Db;
  nats: Nats;
  /** Starts the mail of security alerts (mandatory notifications are always mailed). */
  temporal: WorkflowStarter;
  passwords: PasswordHasher;
  twoFactor: TwoFactorConfig;
}

const boxes = new Map<string, SecretBox>();
function boxFor(config: TwoFactorConfig): SecretBox {
  let box = boxes.get(config.keySecret);
  if (!box) boxes.set(config.keySecret, (box = createSecretBox(twoFactorKey(config.keySecret))));
  return box;
}

const wrongCode = (details?: Record<string, unknown>) => new AppError('two_factor_code_invalid', 'That code is not right, or was already used', details);

export async function isTwoFactorEnabled(db: Db | Tx, userId: string): Promise<boolean> {
  const row = await db.selectFrom('user_two_factor').select('enabled_at').where('user_id', '=', userId).executeTakeFirst();
  return Boolean(row?.enabled_at);
}

/**
 * The account's password, asked again before its second factor changes: an access token alone
 * (a stolen one, an unlocked laptop) must not be able to put someone else's app on the account.
 */
async function requirePassword(deps: TwoFactorDeps, userId: string, password: string): Promise<{ username: string }> {
  const user = await deps.db.selectFrom('users').select(['username', 'password_hash']).where('id', '=', userId).executeTakeFirstOrThrow();
  if (!(await deps.passwords.verify(user.password_hash, password))) {
    throw new AppError('validation_failed', 'Wrong password', [{ field: 'password', message: 'is not your password' }]);
  }
  return user;
}

/** A new secret, pending until `enable` confirms a code of it; replaces any earlier pending one. */
export async function setUpTwoFactor(deps: TwoFactorDeps, userId: string, password: string) {
  const user = await requirePassword(deps, userId, password);
  if (await isTwoFactorEnabled(deps.db, userId)) throw new AppError('conflict', 'Two-factor sign-in is already on; turn it off first to set up another app');
  const secret = newTotpSecret();
  const sealed = boxFor(deps.twoFactor).seal(secret);
  await deps.db
    .insertInto('user_two_factor')
    .values({ user_id: userId, pending_secret_sealed: sealed, pending_created_at: sql<Date>`now()` })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ pending_secret_sealed: sealed, pending_created_at: sql<Date>`now()`, updated_at: sql<Date>`now()` }))
    .execute();
  const uri = otpauthUri(secret, user.username, TOTP_ISSUER);
  return { secret, otpauthUri: uri, qrCodeSvg: await qrCodeString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
}

async function replaceRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await tx.deleteFrom('two_factor_recovery_codes').where('user_id', '=', userId).execute();
  await tx.insertInto('two_factor_recovery_codes').values(codes.map((code) => ({ user_id: userId, code_hash: hashRecoveryCode(code) }))).execute();
  return codes;
}

type SecurityEvent = 'two_factor_enabled' | 'two_factor_disabled' | 'recovery_code_used' | 'recovery_codes_regenerated';

interface SecurityNotice {
  eventId: string;
  notified: StoredNotification[];
}

/** A security notification (mandatory: no setting turns it off, in the app or by mail), written in the caller's transaction. */
async function notifySecurity(tx: Tx, userId: string, event: SecurityEvent, payload: Record<string, unknown> = {}): Promise<SecurityNotice> {
  const eventId = `security:${event}:${randomUUID()}`;
  const notified = await insertNotifications(
    tx,
    { id: eventId, type: 'security_alert', actorId: null, entityType: 'user', entityId: userId, payload: { event, ...payload } },
    sql`select ${userId}::uuid as recipient_id`,
    { mandatory: true },
  );
  return { eventId, notified };
}

/** Pushed to open sessions and mailed (to a verified address) once the change is committed. */
async function afterCommit(deps: Pick<TwoFactorDeps, 'nats' | 'temporal'>, notice: SecurityNotice | null) {
  if (!notice) return;
  // A lost push is still in GET /notifications; the change is committed either way.
  await pushNotifications(deps.nats, notice.notified).catch(() => undefined);
  await mailNotificationEvent(deps.temporal, notice.eventId).catch(() => undefined);
}

/**
 * Turns two-factor sign-in on with a code of the pending secret, answers the recovery codes
 * (shown once; only their hashes are kept) and ends every other session of the account.
 */
export async function enableTwoFactor(deps: TwoFactorDeps, auth: { userId: string; sessionId: string }, code: string) {
  const box = boxFor(deps.twoFactor);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('user_two_factor').selectAll().where('user_id', '=', auth.userId).forUpdate().executeTakeFirst();
    if (row?.enabled_at) return { error: new AppError('conflict', 'Two-factor sign-in is already on') };
    if (!row?.pending_secret_sealed) return { error: new AppError('conflict', 'Set up two-factor sign-in first: there is no pending secret to confirm') };
    const step = acceptedStep(box.open(row.pending_secret_sealed), code, Date.now(), null);
    if (step === null) return { error: wrongCode() };
    await tx
      .updateTable('user_two_factor')
      .set({ secret_sealed: row.pending_secret_sealed, enabled_at: sql<Date>`now()`, last_used_step: step, pending_secret_sealed: null, pending_created_at: null, updated_at: sql<Date>`now()` })
      .where('user_id', '=', auth.userId)
      .execute();
    const recoveryCodes = await replaceRecoveryCodes(tx, auth.userId);
    const revoked = await tx
      .updateTable('auth_sessions')
      .set({ revoked_at: sql`now()`, revoked_reason: 'two_factor_enabled' })
      .where('user_id', '=', auth.userId)
      .where('id', '!=', auth.sessionId)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    const notice = await notifySecurity(tx, auth.userId, 'two_factor_enabled', { otherSessionsEnded: revoked.length });
    return { recoveryCodes, revoked: revoked.map((r) => r.id), notice };
  });
  if ('error' in outcome) throw outcome.error;
  for (const sessionId of outcome.revoked) publishSignOut(deps.nats, { userId: auth.userId, sessionId, reason: 'session_ended' });
  await afterCommit(deps, outcome.notice);
  return { recoveryCodes: outcome.recoveryCodes, otherSessionsEnded: outcome.revoked.length };
}

type SecondFactor = { code: string } | { recoveryCode: string };

/**
 * Checks a code (or spends a recovery code) of an account with two-factor sign-in on, in the
 * caller's transaction with the account's row locked, so two requests cannot both spend one code.
 */
async function spendSecondFactor(tx: Tx, box: SecretBox, userId: string, factor: SecondFactor): Promise<'code' | 'recovery_code' | null> {
  const row = await tx.selectFrom('user_two_factor').select(['secret_sealed', 'enabled_at', 'last_used_step']).where('user_id', '=', userId).forUpdate().executeTakeFirst();
  if (!row?.enabled_at || !row.secret_sealed) return null;
  if ('code' in factor) {
    const step = acceptedStep(box.open(row.secret_sealed), factor.code, Date.now(), row.last_used_step);
    if (step === null) return null;
    await tx.updateTable('user_two_factor').set({ last_used_step: step, updated_at: sql<Date>`now()` }).where('user_id', '=', userId).execute();
    return 'code';
  }
  const normalized = normalizeRecoveryCode(factor.recoveryCode);
  if (!normalized) return null;
  const used = await tx
    .updateTable('two_factor_recovery_codes')
    .set({ used_at: sql`now()` })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hashRecoveryCode(normalized))
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return used ? 'recovery_code' : null;
}

async function unusedRecoveryCodes(tx: Tx, userId: string): Promise<number> {
  const { count } = await tx
    .selectFrom('two_factor_recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** Turns two-factor sign-in off: needs the password and a code (or a recovery code). */
export async function disableTwoFactor(deps: TwoFactorDeps, userId: string, input: { password: string } & SecondFactor): Promise<void> {
  await requirePassword(deps, userId, input.password);
  const box = boxFor(deps.twoFactor);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    if (!(await isTwoFactorEnabled(tx, userId))) return { error: new AppError('conflict', 'Two-factor sign-in is not on') };
    if (!(await spendSecondFactor(tx, box, userId, input))) return { error: wrongCode() };
    await tx.deleteFrom('two_factor_recovery_codes').where('user_id', '=', userId).execute();
    await tx.deleteFrom('user_two_factor').where('user_id', '=', userId).execute();
    await tx.deleteFrom('login_challenges').where('user_id', '=', userId).execute();
    return { notice: await notifySecurity(tx, userId, 'two_factor_disabled') };
  });
  if ('error' in outcome) throw outcome.error;
  await afterCommit(deps, outcome.notice);
}

/** New recovery codes for a current code; the old ones stop working. */
export async function regenerateRecoveryCodes(deps: TwoFactorDeps, userId: string, code: string): Promise<string[]> {
  const box = boxFor(deps.twoFactor);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    if (!(await isTwoFactorEnabled(tx, userId))) return { error: new AppError('conflict', 'Two-factor sign-in is not on') };
    if (!(await spendSecondFactor(tx, box, userId, { code }))) return { error: wrongCode() };
    const recoveryCodes = await replaceRecoveryCodes(tx, userId);
    return { recoveryCodes, notice: await notifySecurity(tx, userId, 'recovery_codes_regenerated') };
  });
  if ('error' in outcome) throw outcome.error;
  await afterCommit(deps, outcome.notice);
  return outcome.recoveryCodes;
}

/** What a right password earns an account with two-factor sign-in on: a challenge, good once, briefly. */
export async function createLoginChallenge(db: Db, config: TwoFactorConfig, userId: string) {
  const { token, hash } = newRefreshToken();
  const row = await db
    .insertInto('login_challenges')
    .values({ token_hash: hash, user_id: userId, expires_at: sql<Date>`now() + make_interval(secs => ${config.challengeTtlSeconds})` })
    .returning('expires_at')
    .executeTakeFirstOrThrow();
  return { twoFactorRequired: true as const, challengeToken: token, expiresAt: row.expires_at.toISOString() };
}

/** The account a challenge token was issued to (for the per-account limit), if it was issued. */
export async function challengeOwner(db: Db, challengeToken: string): Promise<string | undefined> {
  return (await db.selectFrom('login_challenges').select('user_id').where('token_hash', '=', hashRefreshToken(challengeToken)).executeTakeFirst())?.user_id;
}

/**
 * Spends a challenge with a code or a recovery code; the account it was for. A wrong code
 * counts an attempt (committed even though the request fails); the last allowed wrong one
 * spends the challenge, and later attempts, right or wrong, are refused with 429.
 */
export async function passLoginChallenge(deps: TwoFactorDeps, input: { challengeToken: string } & SecondFactor): Promise<string> {
  const box = boxFor(deps.twoFactor);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const challenge = await tx
      .selectFrom('login_challenges')
      .select(['id', 'user_id', 'attempts', 'used_at', sql<boolean>`expires_at <= now()`.as('expired')])
      .where('token_hash', '=', hashRefreshToken(input.challengeToken))
      .forUpdate()
      .executeTakeFirst();
    if (!challenge) return { error: new AppError('challenge_invalid', 'This sign-in step is not valid; sign in again') };
    if (challenge.attempts >= deps.twoFactor.attemptsPerChallenge) {
      return { error: new AppError('rate_limited', 'Too many wrong codes for this sign-in; sign in again', { rule: 'two-factor-challenge' }) };
    }
    if (challenge.used_at || challenge.expired) return { error: new AppError('challenge_expired', 'This sign-in step has expired or was already used; sign in again') };
    const used = await spendSecondFactor(tx, box, challenge.user_id, input);
    if (!used) {
      const attempts = challenge.attempts + 1;
      await tx.updateTable('login_challenges').set({ attempts }).where('id', '=', challenge.id).execute();
      return { error: wrongCode({ attemptsLeft: deps.twoFactor.attemptsPerChallenge - attempts }) };
    }
    await tx.updateTable('login_challenges').set({ used_at: sql`now()` }).where('id', '=', challenge.id).execute();
    const notice =
      used === 'recovery_code' ? await notifySecurity(tx, challenge.user_id, 'recovery_code_used', { recoveryCodesLeft: await unusedRecoveryCodes(tx, challenge.user_id) }) : null;
    return { userId: challenge.user_id, notice };
  });
  if ('error' in outcome) throw outcome.error;
  await afterCommit(deps, outcome.notice);
  return outcome.userId;
}
