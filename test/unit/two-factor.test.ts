import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { createSecretBox, twoFactorKey } from '../../lib/secret-box.ts';
import {
  acceptedStep,
  hashRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  otpauthUri,
  RECOVERY_CODE_COUNT,
  TOTP_DRIFT_STEPS,
  TOTP_PERIOD_SECONDS,
  totpStep,
} from '../../lib/two-factor.ts';

// The pure rules of two-factor sign-in (README, "Two-factor sign-in").

const at = Date.UTC(2026, 11, 3, 7, 0, 10);
const codeFor = (secret: string, ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });

describe('TOTP codes', () => {
  const secret = newTotpSecret();

  it('makes a 160-bit base32 secret and an otpauth URI authenticator apps read', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = otpauthUri(secret, 'alice', 'StreamHub');
    expect(uri).toBe(`otpauth://totp/StreamHub:alice?issuer=StreamHub&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    expect(TOTP_PERIOD_SECONDS).toBe(30);
  });

  it('accepts the code of this step and of one step either side, nothing further', () => {
    const step = totpStep(at);
    expect(TOTP_DRIFT_STEPS).toBe(1);
    expect(acceptedStep(secret, codeFor(secret, at), at, null)).toBe(step);
    expect(acceptedStep(secret, codeFor(secret, at - 30_000), at, null)).toBe(step - 1);
    expect(acceptedStep(secret, codeFor(secret, at + 30_000), at, null)).toBe(step + 1);
    expect(acceptedStep(secret, codeFor(secret, at - 60_000), at, null)).toBeNull();
    expect(acceptedStep(secret, codeFor(secret, at + 60_000), at, null)).toBeNull();
  });

  it('refuses a code of the last accepted step or an earlier one (no replay)', () => {
    const step = totpStep(at);
    expect(acceptedStep(secret, codeFor(secret, at), at, step)).toBeNull();
    expect(acceptedStep(secret, codeFor(secret, at - 30_000), at, step)).toBeNull();
    expect(acceptedStep(secret, codeFor(secret, at + 30_000), at, step)).toBe(step + 1);
  });

  it('refuses what is not six digits', () => {
    const code = codeFor(secret, at);
    expect(acceptedStep(secret, `${code}0`, at, null)).toBeNull();
    expect(acceptedStep(secret, 'abcdef', at, null)).toBeNull();
    expect(acceptedStep(secret, ` ${code} `, at, null)).toBe(totpStep(at));
  });

  it('seals the secret at rest so that only the key opens it', () => {
    const sealed = createSecretBox(twoFactorKey('a secret of thirty-two characters!')).seal(secret);
    expect(sealed).not.toContain(secret);
    expect(createSecretBox(twoFactorKey('a secret of thirty-two characters!')).open(sealed)).toBe(secret);
    expect(() => createSecretBox(twoFactorKey('another secret of 32 characters!')).open(sealed)).toThrow();
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes of two groups of five unambiguous characters', () => {
    const codes = newRecoveryCodes();
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/);
  });

  it('normalises case, spaces and dashes, and rejects what cannot be a code', () => {
    expect(normalizeRecoveryCode(' ABCDE-fghjk ')).toBe('abcde-fghjk');
    expect(normalizeRecoveryCode('abcde fghjk')).toBe('abcde-fghjk');
    expect(normalizeRecoveryCode('abcdefghjk')).toBe('abcde-fghjk');
    expect(normalizeRecoveryCode('abcde-fghj')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fghj0')).toBeNull();
    expect(normalizeRecoveryCode('123456')).toBeNull();
  });

  it('stores a hash that the typed variants of one code share', () => {
    const [code] = newRecoveryCodes(1);
    const hash = hashRecoveryCode(code!);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(normalizeRecoveryCode(code!.toUpperCase().replace('-', ' '))!)).toBe(hash);
  });
});
