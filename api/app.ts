import { Scalar } from '@scalar/hono-api-reference';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../lib/errors.ts';
import { pingDb } from '../lib/db.ts';
import { pingMongo } from '../lib/mongo.ts';
import { pingNats } from '../lib/nats.ts';
import { pingStorage } from '../lib/s3.ts';
import { pingTemporal } from '../lib/temporal.ts';
import type { ApiDeps } from './context.ts';
import { handleError, handleNotFound } from './middleware/errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { createRouter } from './router.ts';
import { internalRoutes } from './routes/internal.ts';
import { systemRoutes } from './routes/system.ts';

/** Composes the whole HTTP API. The only place that knows every route module. */
export function createApp(deps: ApiDeps) {
  const app = createRouter();

  app.use('*', requestContext(deps.logger, deps.metrics));
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.config.api.maxBodyBytes,
      onError: () => {
        throw new AppError('payload_too_large', `Request body exceeds ${deps.config.api.maxBodyBytes} bytes`);
      },
    }),
  );
  app.onError(handleError);
  app.notFound(handleNotFound);

  const checks = [
    { name: 'postgres', check: () => pingDb(deps.db) },
    { name: 'mongo', check: () => pingMongo(deps.mongo) },
    { name: 's3', check: () => pingStorage(deps.storage) },
    { name: 'nats', check: () => pingNats(deps.nats) },
    { name: 'temporal', check: () => pingTemporal(deps.temporal, deps.config.temporal.namespace) },
  ];
  app.route('/', systemRoutes({ checks, timeoutMs: deps.config.api.healthTimeoutMs, metrics: deps.metrics }));
  app.route('/internal', internalRoutes({ temporal: deps.temporal, internalSecret: deps.config.internalSecret }));

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'StreamHub API',
      version: '1',
      description: 'Live streaming and video on demand. Every response uses the `{success, data | error}` envelope.',
    },
    servers: [{ url: deps.config.publicUrls.api }],
  });
  app.get('/docs', Scalar({ url: '/api/v1/openapi.json', pageTitle: 'StreamHub API' }));

  return app;
}

export type App = ReturnType<typeof createApp>;
