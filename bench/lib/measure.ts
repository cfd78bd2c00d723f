// Helpers every bench shares: run a task N times at a given concurrency and summarise.

export interface Summary {
  label: string;
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sortedMs: number[], p: number): number {
  if (!sortedMs.length) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)]!;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns latencies. */
export async function measure(label: string, count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<Summary> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, count, seconds, perSecond: count / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

export function printTable(title: string, rows: Summary[]): void {
  const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(9);
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(`${'what'.padEnd(44)}${'count'.padStart(7)}${'wall s'.padStart(9)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.label.padEnd(44)}${String(r.count).padStart(7)}${fmt(r.seconds, 2)}${fmt(r.perSecond)}${fmt(r.p50Ms, 2)}${fmt(r.p99Ms, 2)}\n`);
  }
}

/** Runs `task(i)` over and over at `concurrency` for `seconds`; failures are counted, not thrown. */
export async function measureFor(
  label: string,
  seconds: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<Summary & { failures: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        try {
          await task(i);
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, count: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), failures };
}
