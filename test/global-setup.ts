import path from 'node:path';
import type { Config } from '../lib/config.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { dropDatabase, provisionPlatform, withAdminClient } from '../scripts/stack/provision.ts';
import { ensureServices, serviceSpecs, stopServices } from '../scripts/stack/services.ts';
import { runDir } from '../scripts/stack/paths.ts';
import { writeWorkflowBundle } from '../workers/bundle.ts';
import { testEnvOverrides, testResources } from './support/test-environment.ts';

const workflowBundlePath = path.join(runDir, 'test-workflow-bundle.js');

/**
 * Reuses the services `npm start` runs, or starts the missing ones for this run only,
 * then builds the test-owned resources: a migrated template database, a namespace with
 * the search attributes, and a bucket.
 */
export default async function setup() {
  // Several projects (integration, browser) name this setup; one run of it serves them all.
  const shared = globalThis as { streamhubTestSetup?: Promise<() => Promise<void>> };
  if (shared.streamhubTestSetup) {
    await shared.streamhubTestSetup;
    return undefined;
  }
  shared.streamhubTestSetup = setupOnce();
  return shared.streamhubTestSetup;
}

async function setupOnce() {
  const base = stackEnvironment();
  const stack = stackEnvironment(testEnvOverrides(base.config.postgres.url));
  // Test forks inherit this environment; test/support/context.ts narrows it per file.
  Object.assign(process.env, stack.env);

  // Every test file's workers (and the worker processes tests spawn) run this one bundle of
  // workflows/, built while the services start, instead of each bundling it again.
  const bundled = writeWorkflowBundle(workflowBundlePath).then(() => {
    process.env.WORKFLOW_BUNDLE_PATH = workflowBundlePath;
  });
  bundled.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  const started = await ensureServices(serviceSpecs(base.config, stack.ports, { internalSecret: stack.config.internalSecret }), (line) =>
    process.stdout.write(`${line}\n`),
  );

  try {
    await Promise.all([provisionTestResources(stack.config), bundled]);
  } catch (err) {
    await stopServices(started);
    throw err;
  }

  return async () => {
    await stopServices(started);
  };
}

async function provisionTestResources(config: Config) {
  // Databases left by an interrupted run, then a fresh template from the migrations.
  await withAdminClient(config.postgres.url, async (client) => {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${testResources.databasePrefix}%`,
    ]);
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  });
  await dropDatabase(config.postgres.url);
  // Schedules are left out: test files create their own, on their own task queues.
  await provisionPlatform(config, () => {}, { schedules: false });
}
