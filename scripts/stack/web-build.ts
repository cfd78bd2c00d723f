// Builds the web app (web/ → dist/web) when its sources changed since the last build: a
// SHA-256 over web/'s files, the lockfile and this file, kept beside the build. `npm start` and the
// browser tests call it; a build takes ~10 s, a check a few milliseconds.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.ts';

export const webSourceDir = path.join(repoRoot, 'web');
export const webDistDir = path.join(repoRoot, 'dist/web');
const stampFile = path.join(webDistDir, '.source-hash');

export function webSourceHash(): string {
  const hash = createHash('sha256');
  const files = readdirSync(webSourceDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => !f.split(path.sep).includes('node_modules'))
    .sort();
  for (const file of [...files.map((f) => path.join('web', f)), 'package-lock.json', 'scripts/stack/web-build.ts']) {
    const full = path.join(repoRoot, file);
    let body: Buffer;
    try {
      body = readFileSync(full);
    } catch {
      continue; // a directory
    }
    hash.update(file).update('\0').update(body).update('\0');
  }
  return hash.digest('hex');
}

const builtHash = () => {
  try {
    return readFileSync(stampFile, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Runs `vite build` unless dist/web was built from these very sources. Returns whether it built. */
export async function ensureWebBuild(say: (line: string) => void = () => {}): Promise<boolean> {
  const hash = webSourceHash();
  if (builtHash() === hash) return false;
  say('  building the web app (web/ changed since the last build)');
  const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: repoRoot,
    // Vitest sets NODE_ENV=test, with which React would be bundled in its development build.
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`vite build failed (exit ${code})`);
  writeFileSync(stampFile, `${hash}\n`);
  return true;
}
