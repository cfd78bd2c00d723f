import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../scripts/stack/paths.ts';

// A `node --cpu-prof` profile boiled down to where the time went: self time per function.

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Main-thread profiles only: Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
    .map((f) => path.join(dir, f));
}

/** The `top` functions by self time, each with its share of all samples. */
export function topSelfTime(file: string, top = 20): { what: string; ms: number; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const where = new Map<number, string>();
  for (const { id, callFrame: f } of profile.nodes) {
    const at = f.url.startsWith('file:') ? path.relative(repoRoot, fileURLToPath(f.url)) : f.url;
    where.set(id, `${f.functionName || '(anonymous)'}${at ? ` ${at}:${f.lineNumber + 1}` : ''}`);
  }
  const selfMicros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const what = where.get(id) ?? '?';
    selfMicros.set(what, (selfMicros.get(what) ?? 0) + micros);
    total += micros;
  });
  return [...selfMicros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([what, micros]) => ({ what, ms: micros / 1000, share: micros / total }));
}
