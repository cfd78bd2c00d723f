import { serve } from '@hono/node-server';
import type { Server } from 'node:net';
import { loadConfig } from '../lib/config.ts';
import { createDb } from '../lib/db.ts';
import { createLogger } from '../lib/logger.ts';
import { createHttpMetrics } from '../lib/metrics.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { explainListenErrors, handleShutdown } from '../lib/process.ts';
import { createStorage } from '../lib/s3.ts';
import { connectTemporal } from '../lib/temporal.ts';
import { createApp } from './app.ts';
import { createSignalRelay } from '../lib/moderation/signals.ts';
import { startLostStreamWorkflows } from './streams/service.ts';

const config = loadConfig();
const logger = createLogger('api', config.logLevel);

const db = createDb({ ...config.postgres, applicationName: 'streamhub-api' });
const mongo = createMongo({ url: config.mongo.url, database: config.mongo.database, appName: 'streamhub-api' });
const storage = createStorage(config.s3);
const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: 'streamhub-api' });
const temporal = await connectTemporal(config.temporal);
const metrics = createHttpMetrics('api');

const app = createApp({ config, logger, metrics, db, mongo, storage, nats, temporal });
const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
  logger.info({ url: `http://${config.api.host}:${info.port}` }, 'api listening'),
) as Server;
explainListenErrors(server, logger, `API (${config.api.host}:${config.api.port})`, 'API_PORT');

// A process that died while creating a stream may have left it without its workflow.
startLostStreamWorkflows(db, temporal, config.streams).then(
  (started) => started && logger.warn({ started }, 'started the workflows of streams whose creation was cut short'),
  (err: unknown) => logger.error({ err }, 'could not check for streams without their workflow'),
);

// Automatic moderation signals (watched words) wait in Postgres until their case workflow has them.
const stopSignalRelay = createSignalRelay({ db, nats, client: temporal.client, taskQueue: temporal.taskQueue, config: config.moderation, logger }).start();

handleShutdown(logger, async () => {
  // Stop accepting, let in-flight requests finish, then release connections.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await stopSignalRelay();
  await Promise.allSettled([db.destroy(), mongo.close(), nats.connection.drain(), temporal.connection.close()]);
});
