import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '../../lib/tokens.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, PASSWORD, setStatus } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestApp();

const me = (authorization: string) => call(t.app, 'GET', '/api/v1/users/me', { headers: { authorization } });

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

  it('revokes the whole session family when a rotated refresh token is reused', async () => {
    const user = await newUser(t.app);
    const first = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(first.status).toBe(200);
    const reuse = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.json.error.code).toBe('refresh_token_reused');
    // The attacker's or the victim's newer token is dead too: the family is revoked.
    const newer = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.json.data.refreshToken } });
    expect(newer.status).toBe(401);
    expect(newer.json.error.code).toBe('token_revoked');
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

  it('stops suspended and banned users from logging in, and their live tokens at once', async () => {
    for (const status of ['suspended', 'banned'] as const) {
      const user = await newUser(t.app);
      await setStatus(t.ctx.db, user.id, status, status === 'suspended' ? new Date(Date.now() + 3_600_000) : null);
      const login = await call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password: PASSWORD } });
      expect(login.status).toBe(403);
      expect(login.json.error.code).toBe(status === 'suspended' ? 'account_suspended' : 'account_banned');
      expect((await me(user.auth.authorization)).status).toBe(403);
      expect((await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(403);
    }
  });

  it('lets a user whose suspension has ended back in', async () => {
    const user = await newUser(t.app);
    await setStatus(t.ctx.db, user.id, 'suspended', new Date(Date.now() - 1000));
    expect((await me(user.auth.authorization)).status).toBe(200);
  });
});
