import { randomBytes } from 'node:crypto';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { createDb, type Db } from '../../lib/db.ts';
import { createLogger, type Logger } from '../../lib/logger.ts';
import { createHttpMetrics } from '../../lib/metrics.ts';
import { createMongo, type Mongo } from '../../lib/mongo.ts';
import { connectNats, ensureJetStream, jetStreamNames, type Nats } from '../../lib/nats.ts';
import { closeStorage, createStorage, deleteObjectsUnder, type Storage } from '../../lib/s3.ts';
import { connectTemporal, type Temporal } from '../../lib/temporal.ts';
import { afterAll, beforeAll } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import type { ApiDeps } from '../../api/context.ts';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/provision.ts';
import { testResources } from './test-environment.ts';

export interface TestContext {
  id: string;
  config: Config;
  logger: Logger;
  db: Db;
  mongo: Mongo;
  storage: Storage;
  nats: Nats;
  temporal: Temporal;
  apiDeps(): ApiDeps;
  cleanup(): Promise<void>;
}

/**
 * Everything one test file needs, isolated from every other file and from `npm start`:
 * a database cloned from the migrated template, its own Mongo database, S3 key prefix,
 * NATS subject prefix (with its own JetStream resources) and Temporal task queues.
 */
export async function createTestContext(): Promise<TestContext> {
  const id = randomBytes(4).toString('hex');
  const shared = parseConfig(processEnv());
  const dbUrl = new URL(shared.postgres.url);
  dbUrl.pathname = `/${testResources.databasePrefix}${id}`;
  const config: Config = {
    ...shared,
    postgres: { ...shared.postgres, url: dbUrl.toString(), poolMax: 5 },
    mongo: { ...shared.mongo, database: `${testResources.mongoDatabasePrefix}${id}` },
    s3: { ...shared.s3, keyPrefix: `t-${id}/` },
    nats: { ...shared.nats, subjectPrefix: `t${id}.` },
    temporal: { ...shared.temporal, taskQueue: `t-${id}-streamhub`, mediaTaskQueue: `t-${id}-media` },
  };

  await ensureDatabase(config.postgres.url, { template: testResources.templateDatabase });
  const logger = createLogger('test', config.logLevel);
  const db = createDb({ url: config.postgres.url, poolMax: config.postgres.poolMax, applicationName: `test-${id}` });
  const mongo = createMongo({ url: config.mongo.url, database: config.mongo.database, appName: `test-${id}` });
  const storage = createStorage(config.s3);
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: `test-${id}` });
  await ensureJetStream(nats, config.nats.subjectPrefix);
  const temporal = await connectTemporal(config.temporal);

  return {
    id,
    config,
    logger,
    db,
    mongo,
    storage,
    nats,
    temporal,
    apiDeps: () => ({ config, logger, metrics: createHttpMetrics('api'), db, mongo, storage, nats, temporal }),
    async cleanup() {
      const jsm = await nats.connection.jetstreamManager();
      for (const name of jetStreamNames(config.nats.subjectPrefix)) await jsm.streams.delete(name).catch(() => {});
      await nats.connection.close();
      await deleteObjectsUnder(storage, '');
      closeStorage(storage);
      await mongo.db.dropDatabase().catch(() => {});
      await mongo.close();
      await temporal.connection.close();
      await db.destroy();
      await dropDatabase(config.postgres.url);
    },
  };
}

/**
 * The usual setup of a test file: a fresh context, cleaned up after the file. Read `t.ctx`
 * inside tests and hooks (it is set in beforeAll).
 */
export function useTestContext(): { ctx: TestContext } {
  const t = {} as { ctx: TestContext };
  beforeAll(async () => {
    t.ctx = await createTestContext();
  });
  afterAll(() => t.ctx?.cleanup());
  return t;
}

/** useTestContext() plus an app over it, for API tests: `t.ctx` and `t.app`. */
export function useTestApp(): { ctx: TestContext; app: App } {
  const t = useTestContext() as { ctx: TestContext; app: App };
  beforeAll(() => {
    t.app = createApp(t.ctx.apiDeps());
  });
  return t;
}
