import { createHash } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { createSecretBox, twoFactorKey } from '../../lib/secret-box.ts';
import { hashRecoveryCode } from '../../lib/two-factor.ts';
import { newEmailToken } from '../../lib/tokens.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, PASSWORD, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { latestMessage } from '../support/mailpit.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { withWorkers } from '../support/workers.ts';

// Two-factor sign-in on the real stack (README, "Two-factor sign-in"): enrolment, the challenge
// a right password earns, single-use codes and recovery codes, the attempt limits, disabling.

const t = useTestApp();

/** README's defaults, not this run's environment (which lifts every limit for other files). */
const defaults = parseConfig({ ...processEnv(), RATE_LIMIT_TWO_FACTOR_PER_HOUR: undefined, TWO_FACTOR_ATTEMPTS_PER_CHALLENGE: undefined, TWO_FACTOR_CHALLENGE_TTL_SECONDS: undefined });

function appWith(change: (config: Config) => Config): App {
  return createApp({ ...t.ctx.apiDeps(), config: change(t.ctx.config) });
}

/** The code an authenticator app shows `steps` time-steps from now (±1 is within the accepted drift). */
const codeAt = (secret: string, steps = 0) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });

const post = (path: string, body: unknown, headers: Record<string, string> = {}, app = t.app) => call(app, 'POST', `/api/v1/auth${path}`, { body, headers });
const login = (user: TestUser, password = PASSWORD, app = t.app) => post('/login', { login: user.username, password }, {}, app);
const me = (accessToken: string) => call(t.app, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${accessToken}` } });

/** A new user with two-factor sign-in on (enabled with the previous step's code), its secret and recovery codes. */
async function enrolled(): Promise<{ user: TestUser; secret: string; recoveryCodes: string[] }> {
  const user = await newUser(t.app);
  const setup = await post('/two-factor/setup', { password: PASSWORD }, user.auth);
  const { secret } = setup.json.data;
  const enabled = await post('/two-factor/enable', { code: codeAt(secret, -1) }, user.auth);
  expect(enabled.status).toBe(200);
  return { user, secret, recoveryCodes: enabled.json.data.recoveryCodes };
}

async function challengeFor(user: TestUser, app = t.app): Promise<string> {
  const res = await login(user, PASSWORD, app);
  expect(res.json.data.twoFactorRequired).toBe(true);
  return res.json.data.challengeToken;
}

const securityEvents = async (userId: string) =>
  (await t.ctx.db.selectFrom('notifications').select('payload').where('recipient_id', '=', userId).where('type', '=', 'security_alert').orderBy('created_at').execute()).map(
    (n) => (n.payload as { event: string }).event,
  );

describe('two-factor sign-in', { timeout: 60_000 }, () => {
  it('enrols with a pending secret (sealed at rest), refuses a wrong code, and enables with a right one', async () => {
    const user = await newUser(t.app);
    expect((await me(user.accessToken)).json.data.twoFactorEnabled).toBe(false);
    expect((await post('/two-factor/setup', { password: PASSWORD })).status).toBe(401);
    // The password again: an access token alone cannot put another app on the account.
    const wrongPassword = await post('/two-factor/setup', { password: `${PASSWORD}x` }, user.auth);
    expect(wrongPassword.status).toBe(400);
    expect(wrongPassword.json.error.details).toEqual([{ field: 'password', message: 'is not your password' }]);
    expect(await t.ctx.db.selectFrom('user_two_factor').select('user_id').where('user_id', '=', user.id).execute()).toEqual([]);
    const setup = await post('/two-factor/setup', { password: PASSWORD }, user.auth);
    expect(setup.status).toBe(200);
    const { secret, otpauthUri, qrCodeSvg } = setup.json.data;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toBe(`otpauth://totp/StreamHub:${user.username}?issuer=StreamHub&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    expect(qrCodeSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const row = await t.ctx.db.selectFrom('user_two_factor').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.enabled_at).toBeNull();
    expect(row.pending_secret_sealed).not.toContain(secret);
    expect(createSecretBox(twoFactorKey(t.ctx.config.twoFactor.keySecret)).open(row.pending_secret_sealed!)).toBe(secret);
    // Still off: signing in answers tokens.
    expect((await login(user)).json.data.accessToken).toEqual(expect.any(String));

    const wrong = await post('/two-factor/enable', { code: codeAt(secret, 3) }, user.auth);
    expect([wrong.status, wrong.json.error.code]).toEqual([400, 'two_factor_code_invalid']);
    const malformed = await post('/two-factor/enable', { code: '12ab56' }, user.auth);
    expect([malformed.status, malformed.json.error.code]).toEqual([400, 'validation_failed']);

    const enabled = await post('/two-factor/enable', { code: codeAt(secret) }, user.auth);
    expect(enabled.status).toBe(200);
    const codes: string[] = enabled.json.data.recoveryCodes;
    expect(codes).toHaveLength(10);
    const stored = await t.ctx.db.selectFrom('two_factor_recovery_codes').select('code_hash').where('user_id', '=', user.id).execute();
    expect(stored.map((r) => r.code_hash).sort()).toEqual(codes.map(hashRecoveryCode).sort());
    expect((await me(user.accessToken)).json.data.twoFactorEnabled).toBe(true);
    const again = await post('/two-factor/setup', { password: PASSWORD }, user.auth);
    expect([again.status, again.json.error.code]).toEqual([409, 'conflict']);
    expect(await securityEvents(user.id)).toEqual(['two_factor_enabled']);
  });

  it('ends every other session on enable, and keeps the one that enabled it', async () => {
    const user = await newUser(t.app);
    const other = (await login(user)).json.data;
    const { secret } = (await post('/two-factor/setup', { password: PASSWORD }, user.auth)).json.data;
    const enabled = await post('/two-factor/enable', { code: codeAt(secret) }, user.auth);
    expect(enabled.json.data.otherSessionsEnded).toBe(1);
    const revoked = await me(other.accessToken);
    expect([revoked.status, revoked.json.error.code]).toEqual([401, 'token_revoked']);
    expect((await post('/refresh', { refreshToken: other.refreshToken })).json.error.code).toBe('token_revoked');
    expect((await me(user.accessToken)).status).toBe(200);
  });

  it('asks for a code after a right password (never after a wrong one); a code signs in once', async () => {
    const { user, secret } = await enrolled();
    const wrong = await login(user, 'not the password');
    expect([wrong.status, wrong.json.error.code]).toEqual([401, 'invalid_credentials']);

    const challenge = await login(user);
    expect(challenge.status).toBe(200);
    expect(Object.keys(challenge.json.data).sort()).toEqual(['challengeToken', 'expiresAt', 'twoFactorRequired']);
    // 256 random bits, stored only as its SHA-256.
    expect(challenge.json.data.challengeToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await t.ctx.db.selectFrom('login_challenges').select('token_hash').where('user_id', '=', user.id).execute();
    expect(stored.map((c) => c.token_hash)).toEqual([createHash('sha256').update(challenge.json.data.challengeToken).digest('hex')]);
    const expiresIn = new Date(challenge.json.data.expiresAt).getTime() - Date.now();
    expect(defaults.twoFactor.challengeTtlSeconds).toBe(300);
    expect(expiresIn).toBeGreaterThan(240_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);

    const code = codeAt(secret);
    const signedIn = await post('/login/two-factor', { challengeToken: challenge.json.data.challengeToken, code });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json.data.user.id).toBe(user.id);
    expect((await me(signedIn.json.data.accessToken)).status).toBe(200);

    // The same challenge again, and the same code with a new challenge: both refused.
    const reused = await post('/login/two-factor', { challengeToken: challenge.json.data.challengeToken, code: codeAt(secret, 1) });
    expect([reused.status, reused.json.error.code]).toEqual([401, 'challenge_expired']);
    const replayed = await post('/login/two-factor', { challengeToken: await challengeFor(user), code });
    expect([replayed.status, replayed.json.error.code]).toEqual([400, 'two_factor_code_invalid']);
    // The next step's code (within the drift allowed) still works.
    expect((await post('/login/two-factor', { challengeToken: await challengeFor(user), code: codeAt(secret, 1) })).status).toBe(200);

    const unknown = await post('/login/two-factor', { challengeToken: 'never-issued', code: codeAt(secret, 1) });
    expect([unknown.status, unknown.json.error.code]).toEqual([401, 'challenge_invalid']);
    const both = await post('/login/two-factor', { challengeToken: 'x', code: '123456', recoveryCode: 'abcde-fghjk' });
    expect(both.status).toBe(400);
  });

  it('takes a recovery code once, in any case or spacing, and tells the user', async () => {
    const { user, recoveryCodes } = await enrolled();
    const [first, second] = recoveryCodes as [string, string];
    const typed = ` ${first.toUpperCase().replace('-', ' ')} `;
    const signedIn = await post('/login/two-factor', { challengeToken: await challengeFor(user), recoveryCode: typed });
    expect(signedIn.status).toBe(200);
    const reused = await post('/login/two-factor', { challengeToken: await challengeFor(user), recoveryCode: first });
    expect([reused.status, reused.json.error.code]).toEqual([400, 'two_factor_code_invalid']);
    expect((await post('/login/two-factor', { challengeToken: await challengeFor(user), recoveryCode: second })).status).toBe(200);
    const notices = await t.ctx.db.selectFrom('notifications').select('payload').where('recipient_id', '=', user.id).where('type', '=', 'security_alert').orderBy('created_at').execute();
    expect(notices.map((n) => n.payload)).toEqual([
      { event: 'two_factor_enabled', otherSessionsEnded: 0 },
      { event: 'recovery_code_used', recoveryCodesLeft: 9 },
      { event: 'recovery_code_used', recoveryCodesLeft: 8 },
    ]);
  });

  it('spends a challenge after 5 wrong codes: then even the right code is refused with 429', async () => {
    expect(defaults.twoFactor.attemptsPerChallenge).toBe(5);
    const app = appWith((c) => ({ ...c, twoFactor: { ...c.twoFactor, attemptsPerChallenge: defaults.twoFactor.attemptsPerChallenge } }));
    const { user, secret } = await enrolled();
    const challengeToken = await challengeFor(user, app);
    const left = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('/login/two-factor', { challengeToken, code: codeAt(secret, 5) }, {}, app);
      expect(res.json.error.code).toBe('two_factor_code_invalid');
      left.push(res.json.error.details.attemptsLeft);
    }
    expect(left).toEqual([4, 3, 2, 1, 0]);
    const spent = await post('/login/two-factor', { challengeToken, code: codeAt(secret) }, {}, app);
    expect([spent.status, spent.json.error.code, spent.json.error.details.rule, spent.headers.get('retry-after')]).toEqual([429, 'rate_limited', 'two-factor-challenge', '1']);
    // A new sign-in gets a new challenge, and the right code works there.
    expect((await post('/login/two-factor', { challengeToken: await challengeFor(user, app), code: codeAt(secret) }, {}, app)).status).toBe(200);
  });

  it('limits code attempts per account an hour across challenges (20 by default)', async () => {
    expect(defaults.twoFactor.attemptsPerHour).toBe(20);
    // Setting up (its password) and enabling count two attempts against the same account; then two wrong codes and the refusal.
    const app = appWith((c) => ({ ...c, twoFactor: { ...c.twoFactor, attemptsPerHour: 4 } }));
    const { user, secret, statuses, rule, retryAfter } = await inOneWindow(t.ctx.db, 3600, async () => {
      const { user, secret } = await enrolled();
      const statuses = [];
      let rule;
      let retryAfter;
      for (let i = 0; i < 3; i++) {
        const res = await post('/login/two-factor', { challengeToken: await challengeFor(user, app), code: codeAt(secret, 5) }, {}, app);
        statuses.push(res.status);
        rule = res.json.error.details?.rule;
        retryAfter = res.headers.get('retry-after');
      }
      return { user, secret, statuses, rule, retryAfter };
    });
    expect(statuses).toEqual([400, 400, 429]);
    expect(rule).toBe('two-factor');
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Counted per account: another account is unaffected.
    const other = await enrolled();
    expect((await post('/login/two-factor', { challengeToken: await challengeFor(other.user, app), code: codeAt(other.secret) }, {}, app)).status).toBe(200);
    expect(user.id).not.toBe(other.user.id);
    expect(secret).not.toBe(other.secret);
  });

  it('refuses an expired challenge (expiry set in the database)', async () => {
    const { user, secret } = await enrolled();
    const challengeToken = await challengeFor(user);
    await t.ctx.db.updateTable('login_challenges').set({ expires_at: sql<Date>`now() - interval '1 second'` }).where('user_id', '=', user.id).execute();
    const res = await post('/login/two-factor', { challengeToken, code: codeAt(secret) });
    expect([res.status, res.json.error.code]).toEqual([401, 'challenge_expired']);
  });

  it('still asks for the code after a password reset', async () => {
    const { user, secret } = await enrolled();
    const { token, hash } = newEmailToken();
    await t.ctx.db
      .insertInto('email_tokens')
      .values({ token_hash: hash, user_id: user.id, purpose: 'password_reset', expires_at: sql<Date>`now() + interval '10 minutes'` })
      .execute();
    expect((await post('/password-reset/confirm', { token, password: 'a brand new passphrase' })).status).toBe(200);
    const res = await login(user, 'a brand new passphrase');
    expect(res.json.data).toMatchObject({ twoFactorRequired: true });
    expect(res.json.data.accessToken).toBeUndefined();
    expect((await post('/login/two-factor', { challengeToken: res.json.data.challengeToken, code: codeAt(secret) })).status).toBe(200);
  });

  it('turns off only with the password and a code (or a recovery code); new recovery codes need a code', async () => {
    const { user, secret, recoveryCodes } = await enrolled();
    const session = (await post('/login/two-factor', { challengeToken: await challengeFor(user), code: codeAt(secret) })).json.data;
    const auth = { authorization: `Bearer ${session.accessToken}` };

    const regenerated = await post('/two-factor/recovery-codes', { code: codeAt(secret, 1) }, auth);
    expect(regenerated.status).toBe(200);
    const fresh: string[] = regenerated.json.data.recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(recoveryCodes[0]);

    const wrongPassword = await post('/two-factor/disable', { password: 'not the password', recoveryCode: fresh[0] }, auth);
    expect([wrongPassword.status, wrongPassword.json.error.code]).toEqual([400, 'validation_failed']);
    const oldCode = await post('/two-factor/disable', { password: PASSWORD, recoveryCode: recoveryCodes[0] }, auth);
    expect([oldCode.status, oldCode.json.error.code]).toEqual([400, 'two_factor_code_invalid']);
    const noFactor = await post('/two-factor/disable', { password: PASSWORD }, auth);
    expect(noFactor.status).toBe(400);

    const disabled = await post('/two-factor/disable', { password: PASSWORD, recoveryCode: fresh[0] }, auth);
    expect(disabled.json).toEqual({ success: true, data: { twoFactorEnabled: false } });
    expect((await me(session.accessToken)).json.data.twoFactorEnabled).toBe(false);
    expect((await login(user)).json.data.accessToken).toEqual(expect.any(String));
    expect(await t.ctx.db.selectFrom('two_factor_recovery_codes').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
    expect(await securityEvents(user.id)).toEqual(['two_factor_enabled', 'recovery_codes_regenerated', 'two_factor_disabled']);
    const offAgain = await post('/two-factor/disable', { password: PASSWORD, code: codeAt(secret) }, auth);
    expect([offAgain.status, offAgain.json.error.code]).toEqual([409, 'conflict']);
  });

  it('mails each security alert to a verified address, whatever the settings (it cannot be turned off)', async () => {
    await withWorkers(
      t.ctx,
      async () => {
        const { user, secret } = await enrolled();
        await t.ctx.db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', user.id).execute();
        // Enrolment used the previous step's code; this step's is still unused.
        const renewed = await post('/two-factor/recovery-codes', { code: codeAt(secret) }, user.auth);
        expect(renewed.status).toBe(200);
        const mail = await latestMessage(user.email, 'New recovery codes were made');
        expect(mail.Subject).toBe('StreamHub: New recovery codes were made; the old ones no longer work');
        expect(mail.Text).toContain(`${t.ctx.config.publicUrls.web}/account/security`);
        expect(mail.Text).toContain('Security notices are always mailed to a verified address.');
      },
      { media: false },
    );
  });
});
