import { register } from 'tsx/esm/api';
import { defineConfig } from 'vitest/config';

// Kysely's FileMigrationProvider and Temporal's worker load our TypeScript with Node's own
// import(), outside Vite's transform; tsx teaches Node to do that in the main process
// (global setup) and in each test fork.
register();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own process: Temporal's Runtime is once per process,
    // and every file gets its own database, task queues, bucket prefix and NATS prefix.
    pool: 'forks',
    execArgv: ['--import', 'tsx'],
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
