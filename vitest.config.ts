import { defineConfig } from 'vitest/config';

// Kysely's FileMigrationProvider loads our TypeScript with Node's own import(), outside
// Vite's transform: Node 24 strips the types itself (tsconfig's erasableSyntaxOnly keeps the
// code strippable), so neither the forks nor the processes the tests spawn load tsx, whose
// loader hooks cost ~0.7 s of CPU per process start.

const shared = {
  // Each integration and browser file runs in its own process: Temporal's Runtime is once per
  // process, and every file gets its own database, task queues, bucket prefix and NATS prefix.
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 180_000,
  teardownTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Three files at a time on the 2-core machine: they spend much of their time waiting on
    // services and workflows, and three keep both cores ~90 % busy (README, Development).
    maxWorkers: 3,
    projects: [
      // Pure logic and config files: no services, so `npm run test:unit` runs anywhere. They
      // share one fork per worker (no module state between files), which halves their CPU.
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      // Real services, started (or reused) once per run by the global setup.
      { test: { ...shared, name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] } },
      // The web app in Debian's Chromium (playwright-core) against real api/gateway processes.
      // expect.poll waits up to 15 s (not 1 s): a page's answer on a loaded two-core machine
      // can take seconds; a passing poll returns as soon as it passes.
      {
        test: {
          ...shared,
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts', 'test/browser/global-setup.ts'],
          expect: { poll: { timeout: 15_000 } },
        },
      },
    ],
  },
});
