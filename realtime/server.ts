import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { createDb } from '../lib/db.ts';
import { createMongo } from '../lib/mongo.ts';
import { connectNats } from '../lib/nats.ts';
import { createTokenSigner } from '../lib/tokens.ts';
import { explainListenErrors, handleShutdown } from '../lib/process.ts';
import { createGateway, gatewayLimits } from './gateway.ts';

const config = loadConfig();
const logger = createLogger('realtime', config.logLevel);
const nats = await connectNats({ url: config.nats.url, subjectPrefix: config.nats.subjectPrefix, name: 'streamhub-realtime' });

const db = createDb({ ...config.postgres, applicationName: 'streamhub-realtime' });
const mongo = createMongo({ url: config.mongo.url, database: config.mongo.database, appName: 'streamhub-realtime' });
const tokens = createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: config.auth.accessTokenTtlSeconds });
const gateway = await createGateway({
  logger,
  nats,
  db,
  mongo,
  tokens,
  healthTimeoutMs: config.api.healthTimeoutMs,
  corsOrigins: config.corsOrigins,
  internalSecret: config.internalSecret,
  trustProxy: config.rateLimits.trustProxy,
  limits: gatewayLimits(config.realtime),
});
explainListenErrors(gateway.server, logger, `Realtime gateway (${config.realtime.host}:${config.realtime.port})`, 'REALTIME_PORT');
gateway.server.listen(config.realtime.port, config.realtime.host, () =>
  logger.info({ url: `ws://${config.realtime.host}:${config.realtime.port}/ws` }, 'realtime listening'),
);

handleShutdown(logger, async () => {
  await gateway.close();
  await nats.connection.drain();
  await db.destroy();
  await mongo.close();
});
