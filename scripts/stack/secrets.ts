import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './paths.ts';

// Per machine rather than per checkout: a second checkout (or CI's fresh clone) that reuses
// the services another one started must hold the same credentials for them.
const secretsFile = path.join(cacheDir, 'secrets.json');

export interface StackSecrets {
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  INTERNAL_SECRET: string;
  JWT_SECRET: string;
}

const generate = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * The local stack's secrets, generated once per machine and never in git, so MinIO's data
 * stays readable across restarts. Production passes its own via env.
 */
export function loadOrCreateSecrets(): StackSecrets {
  const existing: Partial<StackSecrets> = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, 'utf8')) : {};
  // Secrets added by newer versions are generated and stored next to the existing ones.
  const secrets: StackSecrets = {
    S3_ACCESS_KEY_ID: existing.S3_ACCESS_KEY_ID ?? 'streamhub',
    S3_SECRET_ACCESS_KEY: existing.S3_SECRET_ACCESS_KEY ?? generate(24),
    INTERNAL_SECRET: existing.INTERNAL_SECRET ?? generate(24),
    JWT_SECRET: existing.JWT_SECRET ?? generate(48),
  };
  if (Object.keys(existing).length !== Object.keys(secrets).length) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

export { secretsFile };
