import { withTimeout } from './async.ts';

export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
}

export interface ComponentHealth {
  status: 'ok' | 'failing';
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'failing';
  failing: string[];
  components: Record<string, ComponentHealth>;
}

/** Runs every check in parallel, each bounded by the timeout, and never throws. */
export async function runHealthChecks(checks: HealthCheck[], timeoutMs: number): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const started = performance.now();
      try {
        await withTimeout(check(), timeoutMs, name);
        return [name, { status: 'ok', latencyMs: Math.round(performance.now() - started) }] as const;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return [name, { status: 'failing', latencyMs: Math.round(performance.now() - started), error }] as const;
      }
    }),
  );
  const components: Record<string, ComponentHealth> = Object.fromEntries(results);
  const failing = results.filter(([, r]) => r.status === 'failing').map(([name]) => name);
  return { status: failing.length ? 'failing' : 'ok', failing, components };
}
