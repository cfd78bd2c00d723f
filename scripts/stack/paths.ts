import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnv } from '../../lib/config.ts';

const env = processEnv();

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Everything the local stack writes: data, logs, generated config. Git-ignored. */
export const stackDir = path.resolve(env.STREAMHUB_STACK_DIR ?? path.join(repoRoot, '.stack'));
export const logsDir = path.join(stackDir, 'logs');
export const dataDir = path.join(stackDir, 'data');
export const runDir = path.join(stackDir, 'run');
export const lockFile = path.join(stackDir, 'stack.pid');

/** Per machine, outside any checkout: built binaries and the local stack's credentials. */
export const cacheDir = env.STREAMHUB_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'streamhub');

function readVersions(): Record<string, string> {
  const text = readFileSync(path.join(repoRoot, 'scripts/service-versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

const versions = readVersions();

/** Binaries built by scripts/bootstrap.sh, named by version so a pin change rebuilds. */
export const binaries = {
  temporal: path.join(cacheDir, 'bin', `temporal-${versions.TEMPORAL_CLI_VERSION}`),
  minio: path.join(cacheDir, 'bin', `minio-${versions.MINIO_VERSION}`),
  ferretdb: path.join(cacheDir, 'bin', `ferretdb-${versions.FERRETDB_VERSION}`),
  stripeMock: path.join(cacheDir, 'bin', `stripe-mock-${versions.STRIPE_MOCK_VERSION}`),
  mailpit: path.join(cacheDir, 'bin', `mailpit-${versions.MAILPIT_VERSION}`),
};
