import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

// Secrets at rest (creators' bank details, TOTP secrets): AES-256-GCM with a key only the API
// and workers hold, so a database dump or a read replica shows none of them. Format:
// `v1.<iv>.<tag>.<ciphertext>` (base64url).

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A key from PAYOUT_DATA_KEY, or derived from another secret under its own label (domain separation). */
export function payoutDataKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'streamhub', 'payout-method-bank-details/v1', 32));
}

/** A key from TWO_FACTOR_KEY, or derived from another secret under its own label (domain separation). */
export function twoFactorKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'streamhub', 'two-factor-totp-secret/v1', 32));
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('A secret box needs a 32-byte key');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('Not a sealed value of this version');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
