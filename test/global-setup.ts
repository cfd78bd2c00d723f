import { Connection } from '@temporalio/client';
import { parseConfig, processEnv } from '../lib/config.ts';
import { createDb } from '../lib/db.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { createStorage, ensureBucket } from '../lib/s3.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { dropDatabase, ensureDatabase, ensureNamespace, ensureSearchAttributes, withAdminClient } from '../scripts/stack/provision.ts';
import { ensureServices, serviceSpecs, stopServices } from '../scripts/stack/services.ts';
import { testEnvOverrides, testResources } from './support/test-environment.ts';

/**
 * Reuses the services `npm start` runs, or starts the missing ones for this run only,
 * then builds the test-owned resources: a migrated template database, a namespace with
 * the search attributes, and a bucket.
 */
export default async function setup() {
  const base = stackEnvironment();
  const stack = stackEnvironment(testEnvOverrides(base.config.postgres.url));
  Object.assign(process.env, stack.env);
  const config = parseConfig(processEnv());

  const started = await ensureServices(serviceSpecs(base.config, stack.ports, { internalSecret: config.internalSecret }), (line) =>
    process.stdout.write(`${line}\n`),
  );

  try {
    await provisionTestResources();
  } catch (err) {
    await stopServices(started);
    throw err;
  }

  return async () => {
    await stopServices(started);
  };
}

async function provisionTestResources() {
  const config = parseConfig(processEnv());
  // Databases left by an interrupted run, then a fresh template from the migrations.
  await withAdminClient(config.postgres.url, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${testResources.databasePrefix}%`],
    );
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  });
  await dropDatabase(config.postgres.url);
  await ensureDatabase(config.postgres.url);
  const db = createDb({ url: config.postgres.url, poolMax: 1, applicationName: 'streamhub-test-setup' });
  await migrateToLatest(db);
  await db.destroy();

  const connection = await Connection.connect({ address: config.temporal.address });
  await ensureNamespace(connection, config.temporal.namespace, 1);
  await ensureSearchAttributes(connection, config.temporal.namespace);
  await connection.close();

  const storage = createStorage(config.s3);
  await ensureBucket(storage);
  storage.client.destroy();
}
