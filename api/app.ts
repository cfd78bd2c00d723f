import { bodyLimit } from 'hono/body-limit';
import { pingDb } from '../lib/db.ts';
import { AppError } from '../lib/errors.ts';
import { pingMongo } from '../lib/mongo.ts';
import { pingNats } from '../lib/nats.ts';
import { createPasswordHasher } from '../lib/passwords.ts';
import { pingStorage } from '../lib/s3.ts';
import { pingTemporal } from '../lib/temporal.ts';
import { webLinks } from '../lib/web-urls.ts';
import { moneyRules } from '../lib/money/config.ts';
import { createStripeGateway, createStripeSubscriptionGateway } from '../lib/stripe.ts';
import { createTokenSigner } from '../lib/tokens.ts';
import { emailRoutes } from './auth/email-routes.ts';
import { authRoutes } from './auth/routes.ts';
import { twoFactorRoutes } from './auth/two-factor-routes.ts';
import { categoryRoutes } from './categories/routes.ts';
import type { ApiDeps } from './context.ts';
import { creatorAnalyticsRoutes } from './creators/analytics.ts';
import { creatorRoutes } from './creators/routes.ts';
import { creatorSubscriberRoutes } from './creators/subscribers.ts';
import { financeRoutes } from './finance/routes.ts';
import { payoutHoldRoutes } from './finance/payout-holds.ts';
import { payoutRunRoutes } from './finance/payout-runs.ts';
import { creatorPayoutRoutes } from './payouts/creator-routes.ts';
import { createPayoutServices } from '../lib/payouts/services.ts';
import { giftRoutes, streamGiftRoutes } from './gifts/routes.ts';
import { internalRoutes } from './internal/routes.ts';
import { appealRoutes } from './moderation/appeals.ts';
import { moderationRoutes, reportRoutes } from './moderation/routes.ts';
import { channelBlockedTermRoutes, watchedWordRoutes } from './moderation/watched-words.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { devStripeEventRoutes } from './payments/dev-events.ts';
import { paymentRoutes } from './payments/routes.ts';
import { STRIPE_WEBHOOK_PATH, stripeWebhookRoutes } from './payments/webhooks.ts';
import { subscriptionGiftRoutes } from './subscription-gifts/routes.ts';
import { authenticate } from './middleware/auth.ts';
import { apiCors, readableCrossOrigin, securityHeaders } from './middleware/browser-policy.ts';
import { clientIp } from './middleware/client-ip.ts';
import { handleError, handleNotFound } from './middleware/errors.ts';
import { likeRoutes } from './likes/routes.ts';
import { commentRoutes } from './comments/routes.ts';
import { playlistRoutes } from './playlists/routes.ts';
import { localRateLimit } from './middleware/rate-limit.ts';
import { requestContext } from './middleware/request-context.ts';
import { createRouter } from './router.ts';
import { searchRoutes } from './search/routes.ts';
import { subscriptionRoutes } from './subscriptions/routes.ts';
import { trendingRoutes } from './trending/routes.ts';
import { feedRoutes } from './feed/routes.ts';
import { docsRoutes } from './system/docs.ts';
import { systemRoutes } from './system/routes.ts';
import { webAppRoutes } from './system/web-app.ts';
import { chatRoutes } from './streams/chat.ts';
import { streamRoutes } from './streams/routes.ts';
import { channelModerationRoutes } from './users/channel-moderation.ts';
import { userRoutes } from './users/routes.ts';
import { channelVideoRoutes } from './videos/channel.ts';
import { upNextRoutes } from './videos/up-next.ts';
import { videoRoutes } from './videos/routes.ts';
import { viewRoutes } from './views/routes.ts';
import { walletRoutes } from './wallet/routes.ts';

/** The document's header; its paths come from the route schemas. */
export const openApiHeader = (config: ApiDeps['config']) => ({
  openapi: '3.1.0',
  info: {
    title: 'StreamHub API',
    version: '1',
    description:
      'Live streaming and video on demand. Every response uses the `{success, data | error}` envelope; lists are keyset-paginated with `cursor` and `limit` (≤ 100).',
  },
  servers: [{ url: config.publicUrls.api }],
});

/** Composes the whole HTTP API. The only place that knows every route module. */
export function createApp(deps: ApiDeps) {
  const { config, db } = deps;
  const app = createRouter();
  const passwords = createPasswordHasher({ memoryKib: config.auth.passwordHashMemoryKib });
  const tokens = createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: config.auth.accessTokenTtlSeconds });

  app.use('*', requestContext(deps.logger, deps.metrics));
  app.use('*', securityHeaders);
  const limitBody = bodyLimit({
    maxSize: config.api.maxBodyBytes,
    onError: () => {
      throw new AppError('payload_too_large', `Request body exceeds ${config.api.maxBodyBytes} bytes`);
    },
  });
  // GET and HEAD carry no body, and asking for one builds a whole fetch Request per request.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  app.onError(handleError);
  app.notFound(handleNotFound);

  const checks = [
    { name: 'postgres', check: () => pingDb(db) },
    { name: 'mongo', check: () => pingMongo(deps.mongo) },
    { name: 's3', check: () => pingStorage(deps.storage) },
    { name: 'nats', check: () => pingNats(deps.nats) },
    { name: 'temporal', check: () => pingTemporal(deps.temporal, config.temporal.namespace) },
  ];
  app.route('/', systemRoutes({ checks, timeoutMs: config.api.healthTimeoutMs, metrics: deps.metrics, internalSecret: config.internalSecret }));
  app.route('/internal', internalRoutes({ db, temporal: deps.temporal, internalSecret: config.internalSecret, jwtSecret: config.auth.jwtSecret, timings: config.streams, relayUrl: config.rtmpRelayUrl, controlUrl: config.rtmpControlUrl, recordingsDir: config.rtmpRecordingsDir }));

  // Before the rate limit: a preflight is answered here and counts against nothing.
  app.use('/api/v1/*', apiCors(config.corsOrigins));
  app.use('/api/v1/*', clientIp(config.rateLimits.trustProxy));
  // Per process, in memory: a shared counter cost a database write on every request.
  // Not on Stripe's webhook: Stripe delivers from a few addresses, and a refused delivery
  // only delays money; an unsigned request costs one HMAC and is refused before any I/O.
  const generalLimit = localRateLimit({ name: 'ip', limit: config.rateLimits.generalPerMinute, windowSeconds: 60, subjects: (c) => [c.get('clientIp')] });
  app.use('/api/v1/*', (c, next) => (c.req.path === STRIPE_WEBHOOK_PATH ? next() : generalLimit(c, next)));
  // Not on register/login/refresh: a client that sends its expired access token along must
  // still be able to sign in or refresh.
  for (const path of [
    '/api/v1/users/*',
    '/api/v1/categories/*',
    '/api/v1/notifications/*',
    '/api/v1/videos/*',
    '/api/v1/comments/*',
    '/api/v1/streams/*',
    '/api/v1/finance/*',
    '/api/v1/gifts/*',
    '/api/v1/wallet/*',
    '/api/v1/creators/*',
    '/api/v1/auth/logout',
    '/api/v1/auth/verify-email/resend',
    '/api/v1/auth/two-factor/*',
    '/api/v1/tips',
    '/api/v1/coin-purchases',
    '/api/v1/payments/*',
    '/api/v1/reports',
    '/api/v1/reports/*',
    '/api/v1/moderation/*',
    '/api/v1/playlists',
    '/api/v1/playlists/*',
    '/api/v1/channels/*',
    '/api/v1/subscription-gifts/*',
    '/api/v1/trending',
    '/api/v1/feed',
  ]) {
    app.use(path, authenticate(db, tokens));
  }
  const web = webLinks(config.publicUrls.web);
  const auth = { db, passwords, tokens, nats: deps.nats, temporal: deps.temporal, mail: config.mail, refreshTtlDays: config.auth.refreshTokenTtlDays, twoFactor: config.twoFactor, rateLimits: config.rateLimits, web };
  app.route('/api/v1/auth', authRoutes(auth));
  app.route('/api/v1/auth', emailRoutes(auth));
  app.route('/api/v1/auth', twoFactorRoutes(auth));
  app.route('/api/v1/users', userRoutes({ db, temporal: deps.temporal, web }));
  app.route('/api/v1/notifications', notificationRoutes({ db }));
  app.route('/api/v1/categories', categoryRoutes({ db }));
  app.route('/api/v1/finance', financeRoutes({ db }));
  app.route('/api/v1/finance', payoutHoldRoutes({ db }));
  app.route('/api/v1/finance', payoutRunRoutes({ db, temporal: deps.temporal, storage: deps.storage, nats: deps.nats, minimumAmount: config.payouts.minimumAmount }));
  app.route('/api/v1/creators', creatorPayoutRoutes({ db, payouts: createPayoutServices(config), publicApiUrl: config.publicUrls.api }));
  app.route('/api/v1/gifts', giftRoutes({ db }));
  app.route('/api/v1/wallet', walletRoutes({ db }));
  app.route('/api/v1/creators', creatorRoutes({ config, db }));
  app.route('/api/v1/creators', creatorSubscriberRoutes({ db }));
  app.route('/api/v1/creators', creatorAnalyticsRoutes({ config, db }));
  // Web players on other sites fetch playlists (CORS '*' in apiCors) and embed them.
  for (const path of ['/api/v1/videos/:id/hls/*', '/api/v1/videos/:id/storyboard.vtt']) app.use(path, readableCrossOrigin);
  app.route('/api/v1/streams', streamRoutes({ config, db, nats: deps.nats, storage: deps.storage, temporal: deps.temporal }));
  app.route('/api/v1/streams', chatRoutes({ db, mongo: deps.mongo, nats: deps.nats }));
  app.route('/api/v1/streams', streamGiftRoutes({ config, db, nats: deps.nats, metrics: deps.metrics }));
  app.route('/api/v1/videos', videoRoutes({ config, db, nats: deps.nats, storage: deps.storage, temporal: deps.temporal }));
  app.route('/api/v1/users', channelVideoRoutes({ config, db, storage: deps.storage }));
  app.route('/api/v1/videos', upNextRoutes({ config, db, storage: deps.storage }));
  app.route('/api/v1', likeRoutes({ config, db }));
  app.route('/api/v1/search', searchRoutes({ config, db, storage: deps.storage }));
  app.route('/api/v1/trending', trendingRoutes({ config, db, storage: deps.storage }));
  app.route('/api/v1/feed', feedRoutes({ config, db, storage: deps.storage }));
  app.route('/api/v1', commentRoutes({ config, db, temporal: deps.temporal }));
  app.route('/api/v1', playlistRoutes({ config, db }));
  app.route('/api/v1', viewRoutes({ config, db, storage: deps.storage }));
  const moderation = { db, mongo: deps.mongo, nats: deps.nats, temporal: deps.temporal, config: config.moderation };
  app.route('/api/v1/reports', reportRoutes(moderation));
  app.route('/api/v1/moderation', moderationRoutes(moderation));
  app.route('/api/v1/moderation', appealRoutes({ db, nats: deps.nats, temporal: deps.temporal, appealWindowSeconds: config.moderation.appealWindowSeconds }));
  app.route('/api/v1/moderation', watchedWordRoutes({ db }));
  app.route('/api/v1/users', channelBlockedTermRoutes({ db }));
  app.route('/api/v1/users', channelModerationRoutes({ db, nats: deps.nats }));
  app.route('/api/v1/webhooks', stripeWebhookRoutes({ db, temporal: deps.temporal, stripe: config.payments.stripe }));
  const gateway = createStripeGateway(config.payments.stripe);
  app.route('/api/v1', paymentRoutes({ config, db, gateway, rules: moneyRules(config) }));
  app.route('/api/v1', subscriptionGiftRoutes({ config, db, gateway }));
  app.route(
    '/api/v1',
    subscriptionRoutes({ config, db, temporal: deps.temporal, gateway: createStripeSubscriptionGateway(config.payments.stripe), logger: deps.logger }),
  );
  // Development stand-ins for outside systems: never served in production.
  if (config.env !== 'production') {
    const deliver = (request: Request) => Promise.resolve(app.fetch(request));
    app.route('/api/v1/dev', devStripeEventRoutes({ internalSecret: config.internalSecret, stripe: config.payments.stripe, deliver }));
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'internalSecret', { type: 'apiKey', in: 'header', name: 'x-internal-secret' });
  app.doc31('/api/v1/openapi.json', openApiHeader(config));
  app.route('/', docsRoutes({ openApiPath: '/api/v1/openapi.json', pageTitle: 'StreamHub API' }));
  // Last: every other GET is a page of the web app (or one of its files).
  const origin = (url: string) => new URL(url).origin;
  app.route(
    '/',
    webAppRoutes({
      dir: config.webAppDir,
      realtimeUrl: config.publicUrls.realtime,
      origins: { realtime: origin(config.publicUrls.realtime), s3: origin(config.s3.publicEndpoint), hls: origin(config.publicUrls.hls) },
    }),
  );

  return app;
}

export type App = ReturnType<typeof createApp>;
