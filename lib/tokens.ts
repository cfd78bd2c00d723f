import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from './errors.ts';
import type { UserRole } from './schema.ts';

const ISSUER = 'streamhub';
const AUDIENCE = 'streamhub-api';

/**
 * `full`: the account may act. `appeal`: a suspended or banned account's token, good only for
 * what appealing needs (lib/access.ts `isAppealRoute`); a refresh after the sanction ends gives a full one.
 */
export type AccessScope = 'full' | 'appeal';

export interface AccessClaims {
  userId: string;
  role: UserRole;
  sessionId: string;
  jti: string;
  expiresAt: Date;
  scope: AccessScope;
}

export interface TokenSigner {
  signAccess(input: { userId: string; role: UserRole; sessionId: string; scope?: AccessScope }): Promise<{ token: string; claims: AccessClaims }>;
  verifyAccess(token: string): Promise<AccessClaims>;
}

// Tokens whose signature and claims were checked, with their claims, kept until they expire.
const VERIFIED_TOKENS_KEPT = 10_000;

/** HS256 access tokens: short-lived, carrying the session (`sid`) so logout can end it. */
export function createTokenSigner(options: { secret: string; ttlSeconds: number }): TokenSigner {
  // Imported once: jose would import raw key bytes into WebCrypto again on every call.
  const key = crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  // A WebCrypto signature check is a thread-pool job (about 100 µs under load), and a token
  // that passed once passes the same way until it expires. Only the signature and claims are
  // remembered: revocation, session and account are the caller's check on every request.
  const verified = new Map<string, AccessClaims>();
  const remember = (token: string, claims: AccessClaims) => {
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  };
  return {
    async signAccess({ userId, role, sessionId, scope = 'full' }) {
      const jti = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const exp = now + options.ttlSeconds;
      // Full tokens carry no scope claim, as before scopes existed.
      const token = await new SignJWT({ role, sid: sessionId, ...(scope === 'appeal' ? { scp: 'appeal' } : {}) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setJti(jti)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(await key);
      return { token, claims: { userId, role, sessionId, jti, expiresAt: new Date(exp * 1000), scope } };
    },
    async verifyAccess(token) {
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt.getTime() > Date.now()) return { ...known };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, await key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
        if (!payload.sub || !payload.jti || typeof payload.sid !== 'string' || typeof payload.role !== 'string' || !payload.exp) {
          throw new AppError('unauthorized', 'Access token is missing claims');
        }
        const claims: AccessClaims = {
          userId: payload.sub,
          role: payload.role as UserRole,
          sessionId: payload.sid,
          jti: payload.jti,
          expiresAt: new Date(payload.exp * 1000),
          scope: payload.scp === 'appeal' ? 'appeal' : 'full',
        };
        remember(token, claims);
        return { ...claims };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new AppError('token_expired', 'Access token has expired; refresh it');
        throw new AppError('unauthorized', 'Invalid access token');
      }
    },
  };
}

/** Opaque refresh tokens: 256 random bits; only their SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return sha256Hex(token);
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * RTMP stream keys: 192 random bits, URL- and RTMP-name-safe. Only the hash is stored; the
 * prefix (never enough to guess the rest) lets an owner tell which key a encoder uses.
 */
export function newStreamKey(): { key: string; hash: string; prefix: string } {
  const key = `live_${randomBytes(24).toString('base64url')}`;
  return { key, hash: hashStreamKey(key), prefix: key.slice(0, 9) };
}

export function hashStreamKey(key: string): string {
  return sha256Hex(key);
}

/** Tokens mailed in links (verification, password reset): 256 random bits; only their SHA-256 is stored. */
export function newEmailToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashEmailToken(token) };
}

export function hashEmailToken(token: string): string {
  return sha256Hex(token);
}
