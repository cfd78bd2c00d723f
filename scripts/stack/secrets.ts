import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './paths.ts';

// Per machine rather than per checkout: a second checkout (or CI's fresh clone) that reuses
// the services another one started must hold the same credentials for them.
const secretsFile = path.join(cacheDir, 'secrets.json');

interface StoredSecrets {
  S3_ACCESS_KEY_ID: string;
  S3_SECRET_ACCESS_KEY: string;
  INTERNAL_SECRET: string;
  JWT_SECRET: string;
}

export interface StackSecrets extends StoredSecrets {
  /** Test-mode key: locally the Stripe client talks to stripe-mock, which takes any `sk_test_<x>`. */
  STRIPE_SECRET_KEY: string;
  /** Signs the webhook events the dev trigger and the tests send, as Stripe signs them. */
  STRIPE_WEBHOOK_SECRET: string;
}

const generate = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * The local stack's secrets, generated once per machine and never in git, so MinIO's data
 * stays readable across restarts. Production passes its own via env.
 */
export function loadOrCreateSecrets(): StackSecrets {
  const existing: Partial<StoredSecrets> = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, 'utf8')) : {};
  // Secrets added by newer versions are generated and stored next to the existing ones.
  const secrets: StoredSecrets = {
    S3_ACCESS_KEY_ID: existing.S3_ACCESS_KEY_ID ?? 'streamhub',
    S3_SECRET_ACCESS_KEY: existing.S3_SECRET_ACCESS_KEY ?? generate(24),
    INTERNAL_SECRET: existing.INTERNAL_SECRET ?? generate(24),
    JWT_SECRET: existing.JWT_SECRET ?? generate(48),
  };
  if (Object.keys(secrets).some((name) => !(name in existing))) {
    mkdirSync(cacheDir, { recursive: true });
    // Keys this version does not know are kept: a newer checkout on the machine may use them.
    writeFileSync(secretsFile, JSON.stringify({ ...existing, ...secrets }, null, 2), { mode: 0o600 });
  }
  // Derived rather than stored: every checkout on the machine, whatever its version (an older
  // one rewrites the file with the keys it knows), arrives at the same test values.
  const derive = (purpose: string) => createHmac('sha256', secrets.INTERNAL_SECRET).update(`streamhub-local-stack/${purpose}`).digest('hex');
  return {
    ...secrets,
    STRIPE_SECRET_KEY: `sk_test_${derive('stripe-secret-key').slice(0, 48)}`,
    STRIPE_WEBHOOK_SECRET: `whsec_${derive('stripe-webhook-secret').slice(0, 48)}`,
  };
}

export { secretsFile };
