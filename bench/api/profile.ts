import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../scripts/stack/paths.ts';

// A `node --cpu-prof` profile of a server summed by where the code lives: each npm package,
// each top-level folder of ours, Node's own internals, and V8's pseudo-frames (GC, program,
// and native calls such as the writev of a socket). Idle time and module loading at startup
// are left out, so the shares are of the time spent serving.

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  what: string;
  ms: number;
  share: number;
}

export function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (inPackage) return inPackage[1]!;
  const relative = path.relative(repoRoot, file);
  return relative.startsWith('..') ? file : `streamhub ${relative.split(path.sep)[0]}/`;
}

function where(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const url = frame.url.replace(/^.*node_modules\//, '').replace(`file://${repoRoot}`, '');
  return `${frame.functionName || '(anonymous)'}${url ? ` ${url}:${frame.lineNumber + 1}` : ''}`;
}

/** Serving time by owner and by function, largest first. */
export function summarizeProfile(file: string, top = 15): { total: number; owners: ProfileLine[]; functions: ProfileLine[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const loading = new Map<number, boolean>();
  const isLoading = (id: number): boolean => {
    const known = loading.get(id);
    if (known !== undefined) return known;
    const url = nodes.get(id)!.callFrame.url;
    const up = parent.get(id);
    const result = url.startsWith('node:internal/modules') || (up !== undefined && isLoading(up));
    loading.set(id, result);
    return result;
  };
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { callFrame } = nodes.get(id)!;
    if (callFrame.functionName === '(idle)' || isLoading(id)) return;
    const micros = profile.timeDeltas[i] ?? 0;
    total += micros;
    const o = owner(callFrame.url, callFrame.functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + micros);
    const f = where(callFrame);
    byFunction.set(f, (byFunction.get(f) ?? 0) + micros);
  });
  const lines = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, micros]) => ({ what, ms: micros / 1000, share: micros / total }));
  return { total: total / 1000, owners: lines(byOwner), functions: lines(byFunction) };
}
