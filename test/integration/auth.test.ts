import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '../../lib/tokens.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, PASSWORD, setStatus, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestApp();

const me = (authorization: string) => call(t.app, 'GET', '/api/v1/users/me', { headers: { authorization } });
const claimsOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
const refresh = (refreshToken: string) => call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
const login = (user: TestUser) => call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password: PASSWORD } });

describe('auth: happy paths', () => {
  it('registers, returning the own profile and both tokens, never the hash', async () => {
    const res = await call(t.app, 'POST', '/api/v1/auth/register', {
      body: { email: 'Alice@Example.test', username: 'alice', password: PASSWORD },
    });
    expect(res.status).toBe(201);
    expect(res.json.data.user).toMatchObject({ username: 'alice', email: 'alice@example.test', role: 'viewer', status: 'active' });
    expect(res.json.data.accessToken.split('.')).toHaveLength(3);
    expect(res.json.data.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.text).not.toContain('argon2');
    const stored = await t.ctx.db.selectFrom('users').select('password_hash').where('username', '=', 'alice').executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('logs in by email or username, case-insensitively', async () => {
    const user = await newUser(t.app);
    for (const login of [user.email.toUpperCase(), user.username.toUpperCase()]) {
      const res = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login, password: PASSWORD } });
      expect(res.status).toBe(200);
      expect(res.json.data.user.id).toBe(user.id);
      expect((await me(`Bearer ${res.json.data.accessToken}`)).status).toBe(200);
    }
  });

  it('rotates refresh tokens: the new pair works', async () => {
    const user = await newUser(t.app);
    const res = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(res.status).toBe(200);
    expect(res.json.data.refreshToken).not.toBe(user.refreshToken);
    expect((await me(`Bearer ${res.json.data.accessToken}`)).json.data.id).toBe(user.id);
    const again = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: res.json.data.refreshToken } });
    expect(again.status).toBe(200);
  });

  it('logs out: the access token and the session refresh token stop working', async () => {
    const user = await newUser(t.app);
    const out = await call(t.app, 'POST', '/api/v1/auth/logout', { headers: user.auth });
    expect(out.status).toBe(200);
    const after = await me(user.auth.authorization);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('token_revoked');
    const refresh = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refresh.status).toBe(401);
    expect(refresh.json.error.code).toBe('token_revoked');
  });
});

describe('auth: bad input', () => {
  it('refuses a duplicate email or username with 409 naming the field', async () => {
    const user = await newUser(t.app);
    const dupEmail = await call(t.app, 'POST', '/api/v1/auth/register', {
      body: { email: user.email.toUpperCase(), username: 'someone_else', password: PASSWORD },
    });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.json.error.details).toEqual([{ field: 'email', message: 'already registered' }]);
    const dupName = await call(t.app, 'POST', '/api/v1/auth/register', {
      body: { email: 'other@example.test', username: user.username.toUpperCase(), password: PASSWORD },
    });
    expect(dupName.status).toBe(409);
    expect(dupName.json.error.details).toEqual([{ field: 'username', message: 'already taken' }]);
  });

  it.each([
    ['email', { email: 'not-an-email', username: 'valid_name', password: PASSWORD }],
    ['password', { email: 'a@example.test', username: 'valid_name', password: 'short' }],
    ['username', { email: 'a@example.test', username: 'x'.repeat(31), password: PASSWORD }],
    ['username', { email: 'a@example.test', username: 'bad name!', password: PASSWORD }],
    ['email', { username: 'valid_name', password: PASSWORD }],
  ])('answers 400 naming %s', async (field, body) => {
    const res = await call(t.app, 'POST', '/api/v1/auth/register', { body });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('takes usernames of 3 to 30 letters, digits or underscores and passwords of 8 to 128 characters, at the edges', async () => {
    const attempt = (username: string, password = PASSWORD) =>
      call(t.app, 'POST', '/api/v1/auth/register', { body: { email: `${username.toLowerCase()}@edge.test`, username, password } });
    const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 6);
    for (const username of ['ab_', `A_${tag}`.padEnd(30, '9')]) {
      const res = await attempt(username);
      expect(res.status, username).toBe(201);
    }
    for (const [username, password] of [['p8_' + tag, 'x'.repeat(8)], ['p128_' + tag, 'x'.repeat(128)]] as const) {
      expect((await attempt(username, password)).status, `password of ${password.length}`).toBe(201);
    }
    const refusals: [string, string, string][] = [
      ['ab', PASSWORD, 'username'],
      [`b_${tag}`.padEnd(31, '9'), PASSWORD, 'username'],
      [`dash-${tag}`, PASSWORD, 'username'],
      [`p7_${tag}`, 'x'.repeat(7), 'password'],
      [`p129_${tag}`, 'x'.repeat(129), 'password'],
    ];
    for (const [username, password, field] of refusals) {
      const res = await attempt(username, password);
      expect(res.status, `${username} / ${password.length}`).toBe(400);
      expect(res.json.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    // Nothing was written for a refused registration.
    const stored = await t.ctx.db.selectFrom('users').select('username').where('email', 'like', '%@edge.test').execute();
    expect(stored.map((u) => u.username).sort()).toEqual(['ab_', `A_${tag}`.padEnd(30, '9'), `p128_${tag}`, `p8_${tag}`].sort());
  });

  it('leaves no account or session behind when a registration is refused as a duplicate', async () => {
    const user = await newUser(t.app);
    const dup = await call(t.app, 'POST', '/api/v1/auth/register', { body: { email: 'fresh@example.test', username: user.username.toUpperCase(), password: PASSWORD } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe('conflict');
    expect(await t.ctx.db.selectFrom('users').select('id').where('email', '=', 'fresh@example.test').execute()).toEqual([]);
    const sessions = await t.ctx.db.selectFrom('auth_sessions').select('id').where('user_id', '=', user.id).execute();
    expect(sessions).toHaveLength(1);
  });

  it('gives the same answer for a wrong password and an unknown login', async () => {
    const user = await newUser(t.app);
    const wrong = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password: 'wrong password' } });
    const unknown = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login: 'nobody_here', password: 'wrong password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
    expect(wrong.json.error.code).toBe('invalid_credentials');
  });
});

describe('auth: security', () => {
  it('rejects tampered, foreign-signed, expired and malformed tokens', async () => {
    const user = await newUser(t.app);
    const [header, payload, signature] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const foreign = await createTokenSigner({ secret: 'another-secret-another-secret-12345', ttlSeconds: 60 }).signAccess({
      userId: user.id,
      role: 'admin',
      sessionId: claims.sid,
    });
    const expired = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: -60 }).signAccess({
      userId: user.id,
      role: 'viewer',
      sessionId: claims.sid,
    });
    const cases: [string, string][] = [
      [`Bearer ${header}.${forged}.${signature}`, 'unauthorized'],
      [`Bearer ${foreign.token}`, 'unauthorized'],
      [`Bearer ${expired.token}`, 'token_expired'],
      ['Bearer not.a.jwt', 'unauthorized'],
      [`Basic ${user.accessToken}`, 'unauthorized'],
    ];
    for (const [authorization, code] of cases) {
      const res = await me(authorization);
      expect(res.status, authorization).toBe(401);
      expect(res.json.error.code).toBe(code);
    }
  });

  it('issues access tokens for exactly 900 seconds and sessions for exactly 30 days', async () => {
    const user = await newUser(t.app);
    const claims = claimsOf(user.accessToken);
    expect(claims.exp - claims.iat).toBe(900); // README: JWT, 15 minutes
    const session = await t.ctx.db
      .selectFrom('auth_sessions')
      .select(sql<number>`extract(epoch from expires_at - created_at)::int`.as('seconds'))
      .where('id', '=', claims.sid)
      .executeTakeFirstOrThrow();
    expect(session.seconds).toBe(30 * 86_400); // README: refresh token, 30 days
    const refreshed = await refresh(user.refreshToken);
    const again = claimsOf(refreshed.json.data.accessToken);
    expect(again.exp - again.iat).toBe(900);
    expect(refreshed.json.data.accessTokenExpiresAt).toBe(new Date(again.exp * 1000).toISOString());
  });

  it('refuses a refresh once the session has passed its expiry, and not a moment before', async () => {
    const [expired, alive] = [await newUser(t.app), await newUser(t.app)];
    const moveExpiry = (user: TestUser, by: string) =>
      t.ctx.db.updateTable('auth_sessions').set({ expires_at: sql`now() + ${by}::interval` }).where('id', '=', claimsOf(user.accessToken).sid).execute();
    await moveExpiry(expired, '-1 second');
    await moveExpiry(alive, '1 minute');
    const late = await refresh(expired.refreshToken);
    expect(late.status).toBe(401);
    expect(late.json.error.code).toBe('token_expired');
    expect((await refresh(alive.refreshToken)).status).toBe(200);
  });

  it('stores refresh tokens only hashed: no raw token appears anywhere in the database', async () => {
    const user = await newUser(t.app);
    const rotated = (await refresh(user.refreshToken)).json.data.refreshToken as string;
    const second = (await login(user)).json.data.refreshToken as string;
    const raw = [user.refreshToken, rotated, second];
    const tables = await t.ctx.db
      .selectFrom('information_schema.tables' as any)
      .select('table_name')
      .where('table_schema', '=', 'public')
      .where('table_type', '=', 'BASE TABLE')
      .execute();
    expect(tables.map((r: { table_name: string }) => r.table_name)).toContain('refresh_tokens');
    const found: string[] = [];
    for (const { table_name } of tables as { table_name: string }[]) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)} t where ${sql.join(
        raw.map((token) => sql`strpos(t::text, ${token}) > 0`),
        sql` or `,
      )}`.execute(t.ctx.db);
      if (rows[0]!.n) found.push(table_name);
    }
    expect(found).toEqual([]);
    const sessions = await t.ctx.db.selectFrom('auth_sessions').select('id').where('user_id', '=', user.id).execute();
    const stored = await t.ctx.db.selectFrom('refresh_tokens').select('token_hash').where('session_id', 'in', sessions.map((s) => s.id)).execute();
    expect(stored).toHaveLength(3); // one row per token issued, each its hash
  });

  it('revokes that whole session when a rotated refresh token is reused, and only that session', async () => {
    const user = await newUser(t.app);
    const elsewhere = (await login(user)).json.data;
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    const reuse = await refresh(user.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.json.error.code).toBe('refresh_token_reused');
    // The attacker's or the victim's newer token is dead too, and so is every access token of the session.
    const newer = await refresh(first.json.data.refreshToken);
    expect(newer.status).toBe(401);
    expect(newer.json.error.code).toBe('token_revoked');
    for (const accessToken of [user.accessToken, first.json.data.accessToken]) {
      const res = await me(`Bearer ${accessToken}`);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('token_revoked');
    }
    const session = await t.ctx.db.selectFrom('auth_sessions').select('revoked_reason').where('id', '=', claimsOf(user.accessToken).sid).executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('refresh_token_reused');
    // The same user's other session is untouched.
    expect((await me(`Bearer ${elsewhere.accessToken}`)).status).toBe(200);
    expect((await refresh(elsewhere.refreshToken)).status).toBe(200);
  });

  it('blacklists the access token used to log out until it expires, and ends only that session', async () => {
    const user = await newUser(t.app);
    const elsewhere = (await login(user)).json.data;
    const sibling = (await refresh(user.refreshToken)).json.data.accessToken as string;
    expect((await call(t.app, 'POST', '/api/v1/auth/logout', { headers: user.auth })).status).toBe(200);

    const claims = claimsOf(user.accessToken);
    const blacklisted = await t.ctx.db.selectFrom('revoked_access_tokens').selectAll().where('jti', '=', claims.jti).execute();
    expect(blacklisted).toEqual([{ jti: claims.jti, expires_at: new Date(claims.exp * 1000) }]);
    const session = await t.ctx.db.selectFrom('auth_sessions').select(['revoked_at', 'revoked_reason']).where('id', '=', claims.sid).executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('logout');
    // The blacklist alone refuses that token: with its session brought back (as an operator
    // could), the logged-out token stays dead while its sibling of the same session works.
    await t.ctx.db.updateTable('auth_sessions').set({ revoked_at: null, revoked_reason: null }).where('id', '=', claims.sid).execute();
    const refused = await me(user.auth.authorization);
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('token_revoked');
    expect((await me(`Bearer ${sibling}`)).status).toBe(200);
    expect((await me(`Bearer ${elsewhere.accessToken}`)).status).toBe(200);
  });

  it('ends every access token of a revoked session, not just the one used to log out', async () => {
    const user = await newUser(t.app);
    const second = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    const sibling = `Bearer ${second.json.data.accessToken}`;
    expect((await me(sibling)).status).toBe(200);
    await call(t.app, 'POST', '/api/v1/auth/logout', { headers: user.auth });
    const after = await me(sibling);
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('token_revoked');
  });

  it('lets a client that sends its expired access token along still refresh and log in', async () => {
    const user = await newUser(t.app);
    const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString());
    const expired = await createTokenSigner({ secret: t.ctx.config.auth.jwtSecret, ttlSeconds: -60 }).signAccess({
      userId: user.id,
      role: 'viewer',
      sessionId: claims.sid,
    });
    const headers = { authorization: `Bearer ${expired.token}` };
    expect((await call(t.app, 'POST', '/api/v1/auth/refresh', { headers, body: { refreshToken: user.refreshToken } })).status).toBe(200);
    expect((await call(t.app, 'POST', '/api/v1/auth/login', { headers, body: { login: user.username, password: PASSWORD } })).status).toBe(200);
  });

  it('lets only one of two concurrent refreshes of the same token win', async () => {
    const user = await newUser(t.app);
    const results = await Promise.all(
      [1, 2].map(() => call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('signs suspended and banned users in with an appeal-only token, and restricts their live tokens at once', async () => {
    for (const status of ['suspended', 'banned'] as const) {
      const user = await newUser(t.app);
      await setStatus(t.ctx.db, user.id, status, status === 'suspended' ? new Date(Date.now() + 3_600_000) : null);
      const login = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password: PASSWORD } });
      expect(login.status).toBe(200);
      expect(login.json.data).toMatchObject({ access: 'appeal', restriction: { status } });
      const limited = `Bearer ${login.json.data.accessToken}`;
      const restricted = await call(t.app, 'GET', '/api/v1/wallet', { headers: { authorization: limited } });
      expect([restricted.status, restricted.json.error.code]).toEqual([403, 'account_restricted']);
      expect((await me(limited)).json.data).toMatchObject({ status, restriction: { status } });
      // The token held from before: the sanction's own code outside the appeal routes.
      const held = await call(t.app, 'GET', '/api/v1/wallet', { headers: user.auth });
      expect([held.status, held.json.error.code]).toEqual([403, status === 'suspended' ? 'account_suspended' : 'account_banned']);
      const refreshed = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
      expect(refreshed.json.data).toMatchObject({ access: 'appeal', restriction: { status } });
    }
  });

  it('lets a user whose suspension has ended back in', async () => {
    const user = await newUser(t.app);
    await setStatus(t.ctx.db, user.id, 'suspended', new Date(Date.now() - 1000));
    expect((await me(user.auth.authorization)).status).toBe(200);
  });
});
