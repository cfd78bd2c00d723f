import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackDir } from './paths.ts';

const secretsFile = path.join(stackDir, 'secrets.json');

export interface StackSecrets {
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  INTERNAL_SECRET: string;
}

/**
 * The local stack's secrets, generated once per checkout and kept in .stack/ (never in
 * git) so MinIO's data stays readable across restarts. Production passes its own via env.
 */
export function loadOrCreateSecrets(): StackSecrets {
  if (existsSync(secretsFile)) return JSON.parse(readFileSync(secretsFile, 'utf8')) as StackSecrets;
  const secrets: StackSecrets = {
    S3_ACCESS_KEY_ID: 'streamhub',
    S3_SECRET_ACCESS_KEY: randomBytes(24).toString('base64url'),
    INTERNAL_SECRET: randomBytes(24).toString('base64url'),
  };
  mkdirSync(stackDir, { recursive: true });
  writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export { secretsFile };
