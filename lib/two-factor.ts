import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

// TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, what every authenticator app reads from an
// otpauth URI) and recovery codes. Pure: the clock and the last accepted step come from the caller.

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now a code may come from: an authenticator's clock drifts. */
export const TOTP_DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;

export const totpCodePattern = /^\d{6}$/;

/** A new 160-bit secret, base32 (what a person types into an app that cannot scan). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function otpauthUri(secretBase32: string, account: string, issuer: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'SHA1' }).toString();
}

/** The time-step a moment falls in. */
export function totpStep(atMs: number): number {
  return Math.floor(atMs / 1000 / TOTP_PERIOD_SECONDS);
}

export function totpCodeAt(secretBase32: string, step: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(secretBase32), counter: step, digits: TOTP_DIGITS, algorithm: 'SHA1' });
}

/**
 * The step a code belongs to, if it is the code of a step within the drift window around `atMs`
 * and later than the last accepted one (a code, once accepted, is never accepted again, nor an
 * older one); otherwise null.
 */
export function acceptedStep(secretBase32: string, code: string, atMs: number, lastUsedStep: number | null): number | null {
  const given = code.trim();
  if (!totpCodePattern.test(given)) return null;
  const now = totpStep(atMs);
  let found: number | null = null;
  // Every step is computed and compared, so the time taken says nothing about which one matched.
  for (let step = now - TOTP_DRIFT_STEPS; step <= now + TOTP_DRIFT_STEPS; step++) {
    if (timingSafeEqual(Buffer.from(totpCodeAt(secretBase32, step)), Buffer.from(given)) && (lastUsedStep === null || step > lastUsedStep)) found ??= step;
  }
  return found;
}

// No 0/o, 1/l/i: a code is read off paper and typed back.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_GROUP = 5;

/** One recovery code, `xxxxx-xxxxx` (about 49 bits). */
export function newRecoveryCode(): string {
  const chars = Array.from({ length: RECOVERY_GROUP * 2 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]!);
  return `${chars.slice(0, RECOVERY_GROUP).join('')}-${chars.slice(RECOVERY_GROUP).join('')}`;
}

export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(newRecoveryCode());
  return [...codes];
}

/** The canonical form of a typed recovery code (case, spaces and dashes ignored), or null if it cannot be one. */
export function normalizeRecoveryCode(input: string): string | null {
  const bare = input.toLowerCase().replace(/[\s-]/g, '');
  if (bare.length !== RECOVERY_GROUP * 2 || [...bare].some((ch) => !RECOVERY_ALPHABET.includes(ch))) return null;
  return `${bare.slice(0, RECOVERY_GROUP)}-${bare.slice(RECOVERY_GROUP)}`;
}

/** Only this is stored: the codes are random enough that a salt-less SHA-256 gives nothing away. */
export function hashRecoveryCode(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}
