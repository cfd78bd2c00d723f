import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { MediaLimits } from './media-rules.ts';
import type { TrendingRules } from './trending.ts';
import { ibanProblem, isBic, normalizeIban } from './payouts/iban.ts';

// The only module that reads process.env. Everything else receives a typed Config.

const port = z.coerce.number().int().min(1).max(65535);
const url = z.string().url();
const secret = (what: string) =>
  z.string({ error: `required: ${what}` }).min(16, `must be at least 16 characters (${what})`);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Where the production image's nginx-rtmp records (scripts/render-nginx-config.ts). */
export const DEFAULT_RTMP_RECORDINGS_DIR = '/var/lib/streamhub/recordings';
export const DEFAULT_RTMP_HLS_DIR = '/var/lib/streamhub/hls';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  REALTIME_HOST: z.string().min(1).default('127.0.0.1'),
  REALTIME_PORT: port.default(3001),
  // Abuse limits of each gateway (see README, "Realtime").
  REALTIME_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(50),
  REALTIME_FRAMES_PER_10_SECONDS: z.coerce.number().int().min(5).max(10_000).default(60),
  REALTIME_SESSION_CHECK_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  PUBLIC_API_URL: url.default('http://localhost:3000'),
  PUBLIC_REALTIME_URL: url.default('ws://localhost:3001/ws'),
  PUBLIC_RTMP_URL: z.string().regex(/^rtmps?:\/\//, 'must start with rtmp:// or rtmps://').default('rtmp://localhost:1935/live'),
  PUBLIC_HLS_URL: url.default('http://localhost:8080/hls'),
  // Where people open the web app; `webUrl` fields point into it. Defaults to PUBLIC_API_URL,
  // which serves the app itself.
  PUBLIC_WEB_URL: url.optional(),
  // The built web app (`npm run web:build`) the API serves at `/`, relative to the working directory.
  WEB_APP_DIR: z.string().min(1).default('dist/web'),
  // nginx-rtmp's rtmp_control endpoint, reachable from the workers only.
  RTMP_CONTROL_URL: url.default('http://127.0.0.1:8081/control'),
  // Where nginx-rtmp relays an accepted publish to, as seen from nginx itself.
  RTMP_RELAY_URL: z.string().regex(/^rtmp:\/\/[^/]+\/[\w-]+$/, 'must be rtmp://host:port/<application>').default('rtmp://127.0.0.1:1935/broadcast'),
  // nginx-rtmp's record_path: the API accepts only recordings reported inside it, the media
  // workers read them from it (the same directory, shared with nginx).
  RTMP_RECORDINGS_DIR: z
    .string()
    .refine((p) => path.isAbsolute(p), 'must be an absolute path')
    .transform((p) => path.resolve(p))
    .default(DEFAULT_RTMP_RECORDINGS_DIR),
  // nginx-rtmp's hls_path: the media workers take live thumbnails from its newest segments.
  RTMP_HLS_DIR: z
    .string()
    .refine((p) => path.isAbsolute(p), 'must be an absolute path')
    .transform((p) => path.resolve(p))
    .default(DEFAULT_RTMP_HLS_DIR),
  // Browser origins allowed to call the JSON API with credentials and to open WebSockets:
  // comma-separated origins, or `*` for any. Defaults to the API's own public origin (the web app).
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.union([z.literal('*'), z.url().transform((o) => new URL(o).origin)])).min(1))
    .optional(),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').default('postgres://postgres@127.0.0.1:5432/streamhub'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  // How long a service waits for Postgres before answering 503: a new connection, one query.
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),

  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL').default('mongodb://127.0.0.1:27017/'),
  MONGO_DATABASE: z.string().min(1).default('streamhub'),

  S3_ENDPOINT: url.default('http://127.0.0.1:9000'),
  // Presigned URLs carry the host they were signed for; clients may reach S3 by another name.
  S3_PUBLIC_ENDPOINT: url.optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').default('streamhub'),
  S3_KEY_PREFIX: z.string().regex(/^$|^[A-Za-z0-9._-]+\/$/, 'must be empty or end with "/"').default(''),
  S3_FORCE_PATH_STYLE: bool.default(true),
  S3_ACCESS_KEY_ID: z.string({ error: 'required: the S3 access key id' }).min(3),
  S3_SECRET_ACCESS_KEY: secret('the S3 secret access key'),

  NATS_URL: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// URL').default('nats://127.0.0.1:4222'),
  NATS_SUBJECT_PREFIX: z.string().regex(/^$|^[A-Za-z0-9_-]+\.$/, 'must be empty or end with "."').default(''),

  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('streamhub'),
  TEMPORAL_MEDIA_TASK_QUEUE: z.string().min(1).default('media'),
  WORKER_METRICS_PORT: port.default(9464),
  MEDIA_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(Math.max(1, os.availableParallelism())),
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

  JWT_SECRET: z.string({ error: 'required: the JWT signing secret' }).min(32, 'must be at least 32 characters'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  PASSWORD_HASH_MEMORY_KIB: z.coerce.number().int().min(8192).max(1_048_576).default(19_456),
  TRUST_PROXY: bool.default(false),
  RATE_LIMIT_GENERAL_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_LOGIN_PER_MINUTE: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_REGISTER_PER_HOUR: z.coerce.number().int().min(1).default(3),
  RATE_LIMIT_LIKES_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_SEARCH_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  RATE_LIMIT_COMMENTS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_PLAYLIST_WRITES_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  // Password reset requests per hour, counted per client address and per email address.
  RATE_LIMIT_PASSWORD_RESET_PER_HOUR: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_VERIFICATION_EMAILS_PER_HOUR: z.coerce.number().int().min(1).default(3),
  // Two-factor sign-in (README, "Two-factor sign-in"): TOTP secrets are sealed with TWO_FACTOR_KEY
  // (unset, a key derived from JWT_SECRET under its own label); a right password earns a challenge
  // good for TWO_FACTOR_CHALLENGE_TTL_SECONDS and TWO_FACTOR_ATTEMPTS_PER_CHALLENGE codes; an
  // account takes RATE_LIMIT_TWO_FACTOR_PER_HOUR code attempts an hour, on every route that checks one.
  TWO_FACTOR_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TWO_FACTOR_CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  TWO_FACTOR_ATTEMPTS_PER_CHALLENGE: z.coerce.number().int().min(1).max(20).default(5),
  RATE_LIMIT_TWO_FACTOR_PER_HOUR: z.coerce.number().int().min(1).default(20),

  // Mail (README, "Email"): where it is sent and whom it is from.
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^/]+/, 'must be an smtp:// or smtps:// URL').default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().regex(/^(.+<)?[^\s<>@]+@[^\s<>@]+>?$/, 'must be an address, optionally with a name: StreamHub <no-reply@example.com>').default('StreamHub <no-reply@streamhub.localhost>'),
  EMAIL_VERIFICATION_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),
  PASSWORD_RESET_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(1800),
  // The hour (UTC, on the hour) the `notification-digest` Schedule mails the daily digests.
  NOTIFICATION_DIGEST_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(8),
  // Views (README, "Views, watch history and resume"): a viewer's view of a video counts at
  // most once per window; heartbeats are limited per viewer, and anonymous ones per address too.
  VIEW_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  // Trending (README, "Trending"): an event's weight halves every TRENDING_HALF_LIFE_HOURS;
  // events older than TRENDING_WINDOW_HOURS are not read.
  TRENDING_HALF_LIFE_HOURS: z.coerce.number().positive().max(24 * 30).default(24),
  TRENDING_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(72),
  RATE_LIMIT_VIEW_HEARTBEATS_PER_MINUTE: z.coerce.number().int().min(1).default(12),
  RATE_LIMIT_ANONYMOUS_VIEW_HEARTBEATS_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).default(120),

  MAX_UPLOAD_BYTES: z.coerce.number().int().min(1024).max(5 * 1024 ** 3, 'must be at most 5 GiB (one S3 PUT)').default(5 * 1024 ** 3),
  UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
  PLAYBACK_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(4 * 3600),
  RATE_LIMIT_UPLOADS_PER_HOUR: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_VIDEO_EDITS_PER_HOUR: z.coerce.number().int().min(1).default(60),
  // What one source may cost to decode; over any of them it is refused before encoding.
  MEDIA_MAX_DURATION_SECONDS: z.coerce.number().int().min(1).default(12 * 3600),
  MEDIA_MAX_WIDTH: z.coerce.number().int().min(16).default(7680),
  MEDIA_MAX_HEIGHT: z.coerce.number().int().min(16).default(4320),
  MEDIA_MAX_FPS: z.coerce.number().min(1).default(120),
  MEDIA_MAX_PIXELS_PER_SECOND: z.coerce.number().int().min(1).default(3840 * 2160 * 60),

  STREAM_REMINDER_LEAD_SECONDS: z.coerce.number().int().min(0).max(7 * 86_400).default(900),
  STREAM_SCHEDULED_GRACE_SECONDS: z.coerce.number().int().min(0).max(7 * 86_400).default(3600),
  STREAM_MAX_RECONNECTS: z.coerce.number().int().min(0).max(1000).default(50),
  STREAM_IDLE_CLOSE_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // Moderation review (README, "Moderation"): how long a case of each priority may wait for a
  // decision before it escalates, a claim's life, the appeal window and a strike's life.
  MODERATION_SLA_URGENT_SECONDS: z.coerce.number().int().min(1).default(10 * 60),
  MODERATION_SLA_HIGH_SECONDS: z.coerce.number().int().min(1).default(4 * 3600),
  MODERATION_SLA_NORMAL_SECONDS: z.coerce.number().int().min(1).default(48 * 3600),
  MODERATION_CLAIM_SECONDS: z.coerce.number().int().min(1).default(15 * 60),
  MODERATION_APPEAL_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(180),
  MODERATION_STRIKE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  RATE_LIMIT_REPORTS_PER_HOUR: z.coerce.number().int().min(1).default(20),
  MODERATION_INTERIM_REPORTER_MIN_AGE_HOURS: z.coerce.number().int().min(0).max(8760).default(72),

  NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  CHAT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // Counted views (video_views rows) already in the view counts; trending reads the last few days of them.
  VIEW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),

  // nginx-rtmp passes it in hook URLs, so it must need no escaping.
  INTERNAL_SECRET: secret('shared secret for nginx-rtmp hooks and /internal routes').regex(
    /^[A-Za-z0-9._~-]+$/,
    'may contain only letters, digits and . _ ~ -',
  ),

  // Payments (README, "Payments (Stripe)"): both secrets or neither; neither turns payments off.
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/, 'must be a Stripe secret or restricted key (sk_test_…, sk_live_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=_-]{16,}$/, 'must be a Stripe endpoint signing secret (whsec_…)').optional(),
  // Where the Stripe client sends its requests: stripe-mock locally; unset means Stripe itself.
  STRIPE_API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SETTLEMENT_CURRENCY: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as USD'))
    .default('USD'),

  // Payout runs (README, "Payouts").
  PAYOUT_MINIMUM_MINOR: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(5000),
  PAYOUT_APPROVAL_DEADLINE_HOURS: z.coerce.number().min(0.001).max(24 * 30).default(72),
  PAYOUT_SETTLEMENT_DEADLINE_DAYS: z.coerce.number().min(0.001).max(365).default(14),
  PAYOUT_PARALLELISM: z.coerce.number().int().min(1).max(64).default(4),
  // The account bank-transfer payouts leave from: the debtor of every pain.001 file.
  PAYOUT_DEBTOR_NAME: z.string().min(1).max(70).default('StreamHub Demo Ltd'),
  PAYOUT_DEBTOR_IBAN: z
    .string()
    .transform(normalizeIban)
    .refine((v) => ibanProblem(v) === null, 'must be a valid IBAN')
    .default('DE89370400440532013000'),
  PAYOUT_DEBTOR_BIC: z.string().refine(isBic, 'must be a BIC (8 or 11 characters)').default('COBADEFFXXX'),
  // Seals creators' IBANs at rest; unset, a key is derived from JWT_SECRET under its own label.
  PAYOUT_DATA_KEY: z.string().min(32, 'must be at least 32 characters').optional(),

  // Money (README, "Money"): integer minor units of the settlement currency, basis points of an amount.
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(1000),
  PAYMENT_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(290),
  PAYMENT_FEE_FIXED_MINOR: z.coerce.number().int().min(0).max(1_000_000).default(30),
  COIN_CREATOR_VALUE_MINOR: z.coerce.number().int().min(1).max(1_000_000).default(1),
  EARNINGS_HOLD_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  RATE_LIMIT_GIFTS_PER_MINUTE: z.coerce.number().int().min(1).default(120),

  // Tips (README, "Money in"): bounds of one tip, minor units of the settlement currency.
  TIP_MIN_MINOR: z.coerce.number().int().min(1).max(100_000_000).default(100),
  TIP_MAX_MINOR: z.coerce.number().int().min(1).max(100_000_000).default(50_000),
  // What the payment provider withdraws for a dispute besides the disputed amount (Stripe: $15).
  DISPUTE_FEE_MINOR: z.coerce.number().int().min(0).max(1_000_000).default(1500),
  RATE_LIMIT_PAYMENTS_PER_HOUR: z.coerce.number().int().min(1).default(60),

  // Subscriptions (README, "Subscriptions"): the monthly price of tiers 1, 2 and 3 in minor
  // units of the settlement currency (Twitch's 4.99 / 9.99 / 24.99), the creator's share of
  // what is left after the provider's fee, and how long a failed renewal keeps the perks.
  SUBSCRIPTION_TIER_PRICES_MINOR: z
    .string()
    .regex(/^\d+,\d+,\d+$/, 'must be three prices in minor units, e.g. 499,999,2499')
    .default('499,999,2499')
    .transform((v) => v.split(',').map(Number) as [number, number, number])
    .refine((p) => p.every((n) => n > 0 && n <= 10_000_000), 'each price must be between 1 and 10000000'),
  SUBSCRIPTION_CREATOR_SHARE_BPS: z.coerce.number().int().min(0).max(10_000).default(5000),
  SUBSCRIPTION_GRACE_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(3 * 86_400),
  RATE_LIMIT_SUBSCRIPTION_CHANGES_PER_HOUR: z.coerce.number().int().min(1).default(30),
});

/** Rules across variables, reported with the single-variable ones. */
const checkedEnvSchema = envSchema.superRefine((e, ctx) => {
  if (Boolean(e.STRIPE_SECRET_KEY) !== Boolean(e.STRIPE_WEBHOOK_SECRET)) {
    const missing = e.STRIPE_SECRET_KEY ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_SECRET_KEY';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'required with the other Stripe secret (set both, or neither to run without payments)' });
  }
  if (e.VIEW_RETENTION_DAYS * 24 < e.TRENDING_WINDOW_HOURS) {
    ctx.addIssue({ code: 'custom', path: ['VIEW_RETENTION_DAYS'], message: 'must cover TRENDING_WINDOW_HOURS (trending reads the counted views of that window)' });
  }
  if (e.TIP_MIN_MINOR > e.TIP_MAX_MINOR) {
    ctx.addIssue({ code: 'custom', path: ['TIP_MIN_MINOR'], message: 'must not exceed TIP_MAX_MINOR' });
  }
  if (e.STRIPE_SECRET_KEY?.includes('_live_') && e.STRIPE_API_BASE_URL?.startsWith('http:')) {
    ctx.addIssue({ code: 'custom', path: ['STRIPE_API_BASE_URL'], message: 'must be https:// with a live Stripe key' });
  }
});

export type Env = z.input<typeof envSchema>;

/** Every variable StreamHub reads, for docs and for checking deployment files. */
export const configVariables = Object.keys(envSchema.shape) as (keyof Env)[];

export interface Config {
  env: 'development' | 'test' | 'production';
  logLevel: string;
  api: { host: string; port: number; maxBodyBytes: number; healthTimeoutMs: number };
  realtime: {
    host: string;
    port: number;
    /** Open sockets per client address on one gateway. */
    connectionsPerAddress: number;
    /** Frames a socket may send per 10 s (a token bucket of that size). */
    framesPer10Seconds: number;
    /** How often a gateway re-checks the sessions of its signed-in sockets. */
    sessionCheckSeconds: number;
  };
  publicUrls: { api: string; realtime: string; rtmp: string; hls: string; web: string };
  /** The built web app's directory (absolute). */
  webAppDir: string;
  /** Browser origins allowed by CORS and on WebSocket upgrades (`*` = any). */
  corsOrigins: string[];
  rtmpControlUrl: string;
  rtmpRelayUrl: string;
  rtmpRecordingsDir: string;
  rtmpHlsDir: string;
  postgres: { url: string; poolMax: number; connectTimeoutMs: number; queryTimeoutMs: number };
  mongo: { url: string; database: string };
  s3: {
    endpoint: string;
    publicEndpoint: string;
    region: string;
    bucket: string;
    keyPrefix: string;
    forcePathStyle: boolean;
    accessKeyId: string;
    secretAccessKey: string;
  };
  nats: { url: string; subjectPrefix: string };
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    mediaTaskQueue: string;
    workerMetricsPort: number;
    mediaConcurrency: number;
    /** A workflow bundle built ahead (workers/bundle.ts); without it the platform worker bundles workflows/ at start. */
    workflowBundlePath?: string;
  };
  auth: {
    jwtSecret: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlDays: number;
    passwordHashMemoryKib: number;
  };
  twoFactor: TwoFactorConfig;
  rateLimits: {
    trustProxy: boolean;
    generalPerMinute: number;
    loginPerMinute: number;
    registerPerHour: number;
    /** Likes and unlikes (videos, streams and comments together) one user may send per minute, counted in Postgres. */
    likesPerMinute: number;
    /** Searches one client address may send per minute (a burst of that many, per API process). */
    searchPerMinute: number;
    /** Comments (top-level and replies) one user may post per minute, counted in Postgres. */
    commentsPerMinute: number;
    playlistWritesPerMinute: number;
    /** Password reset requests per hour, per client address and per email address. */
    passwordResetPerHour: number;
    /** Verification emails one signed-in user may ask for again per hour. */
    verificationEmailsPerHour: number;
  };
  mail: MailConfig;
  retention: { readNotificationDays: number; chatDays: number; viewDays: number };
  views: ViewConfig;
  trending: TrendingRules;
  streams: { reminderLeadSeconds: number; scheduledGraceSeconds: number; maxReconnects: number; idleCloseDays: number };
  videos: {
    maxUploadBytes: number;
    uploadUrlTtlSeconds: number;
    playbackUrlTtlSeconds: number;
    uploadsPerHour: number;
    /** PATCH /videos/{id} per user, counted in Postgres: a poster change costs an FFmpeg run. */
    editsPerHour: number;
  };
  /** Cost limits the media workers hold every source to. */
  media: MediaLimits;
  internalSecret: string;
  payments: {
    /** Undefined when neither Stripe secret is set: payments are off. */
    stripe: StripeConfig | undefined;
    /** Bounds of one tip, minor units. */
    tipMinMinor: number;
    tipMaxMinor: number;
    /** What the provider withdraws for a dispute on top of the disputed amount, minor units. */
    disputeFeeMinor: number;
    /** Tips and coin purchases one user may start per hour (counted in Postgres). */
    paymentsPerHour: number;
  };
  payouts: PayoutConfig;
  money: {
    /** ISO 4217 code tips, coin packs and earnings are in. */
    settlementCurrency: string;
    platformFeeBps: number;
    paymentFeeBps: number;
    paymentFeeFixedMinor: number;
    /** Minor units a creator earns per coin spent on them. */
    coinCreatorValueMinor: number;
    /** How long earnings stay pending (refundable) before they become available. */
    earningsHoldDays: number;
    /** Gifts one user may send per minute (a burst of that many, per API process). */
    giftsPerMinute: number;
  };
  subscriptions: SubscriptionConfig;
  moderation: ModerationConfig;
}

export interface SubscriptionConfig {
  /** Monthly price of tiers 1, 2 and 3, minor units of the settlement currency. */
  tierPricesMinor: readonly [number, number, number];
  /** The creator's share of a paid period, basis points of the amount less the provider's fee. */
  creatorShareBps: number;
  /** How long a subscription whose renewal failed stays past_due (perks kept) before it lapses. */
  graceSeconds: number;
  /** Subscribes, cancels and tier changes one user may make per hour. */
  changesPerHour: number;
}

export interface MailConfig {
  smtpUrl: string;
  /** The From header: an address, optionally with a display name. */
  from: string;
  verificationTtlSeconds: number;
  passwordResetTtlSeconds: number;
  /** The UTC hour the daily notification digest goes out. */
  digestHourUtc: number;
}

export interface TwoFactorConfig {
  /** Key material for sealing TOTP secrets (lib/secret-box.ts). */
  keySecret: string;
  challengeTtlSeconds: number;
  attemptsPerChallenge: number;
  /** Code attempts one account may make per hour (sign-in, enable, disable, new recovery codes together). */
  attemptsPerHour: number;
}

export interface ViewConfig {
  /** A viewer's view of a video counts at most once per this many seconds. */
  windowSeconds: number;
  /** Heartbeats one viewer may send per minute (a burst of that many; per API process). */
  heartbeatsPerMinute: number;
  /** Anonymous heartbeats one client address may send per minute, whatever device ids they carry. */
  anonymousHeartbeatsPerAddressPerMinute: number;
}

export interface ModerationConfig {
  slaSeconds: { urgent: number; high: number; normal: number };
  claimSeconds: number;
  appealWindowSeconds: number;
  strikeSeconds: number;
  reportsPerHour: number;
  /** A `minor_safety` report alone triggers the interim measure only from an account at least this old (and in good standing). */
  interimReporterMinAgeHours: number;
}

export interface PayoutConfig {
  /** Minor units of the run's currency: smaller available balances wait for a later run. */
  minimumAmount: number;
  approvalDeadlineHours: number;
  settlementDeadlineDays: number;
  /** Stripe payouts in flight at once within one run. */
  parallelism: number;
  debtor: { name: string; iban: string; bic: string };
  /** Key material for sealing bank details (lib/secret-box.ts). */
  dataKeySecret: string;
}

export interface StripeConfig {
  secretKey: string;
  webhookSecret: string;
  /** stripe-mock or another stand-in; undefined means Stripe's own API. */
  apiBaseUrl: string | undefined;
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses an environment record into a Config, reporting every bad variable at once. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" so that `FOO= npm start` falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = checkedEnvSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = result.data;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    api: { host: e.API_HOST, port: e.API_PORT, maxBodyBytes: e.MAX_BODY_BYTES, healthTimeoutMs: e.HEALTH_TIMEOUT_MS },
    realtime: {
      host: e.REALTIME_HOST,
      port: e.REALTIME_PORT,
      connectionsPerAddress: e.REALTIME_CONNECTIONS_PER_ADDRESS,
      framesPer10Seconds: e.REALTIME_FRAMES_PER_10_SECONDS,
      sessionCheckSeconds: e.REALTIME_SESSION_CHECK_SECONDS,
    },
    publicUrls: { api: e.PUBLIC_API_URL, realtime: e.PUBLIC_REALTIME_URL, rtmp: e.PUBLIC_RTMP_URL, hls: e.PUBLIC_HLS_URL, web: (e.PUBLIC_WEB_URL ?? e.PUBLIC_API_URL).replace(/\/+$/, '') },
    webAppDir: path.resolve(e.WEB_APP_DIR),
    corsOrigins: e.CORS_ORIGINS ?? [new URL(e.PUBLIC_API_URL).origin],
    rtmpControlUrl: e.RTMP_CONTROL_URL,
    rtmpRelayUrl: e.RTMP_RELAY_URL,
    rtmpRecordingsDir: e.RTMP_RECORDINGS_DIR,
    rtmpHlsDir: e.RTMP_HLS_DIR,
    postgres: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS, queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS },
    mongo: { url: e.MONGO_URL, database: e.MONGO_DATABASE },
    s3: {
      endpoint: e.S3_ENDPOINT,
      publicEndpoint: e.S3_PUBLIC_ENDPOINT ?? e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      keyPrefix: e.S3_KEY_PREFIX,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
    },
    nats: { url: e.NATS_URL, subjectPrefix: e.NATS_SUBJECT_PREFIX },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      mediaTaskQueue: e.TEMPORAL_MEDIA_TASK_QUEUE,
      workerMetricsPort: e.WORKER_METRICS_PORT,
      mediaConcurrency: e.MEDIA_CONCURRENCY,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    auth: {
      jwtSecret: e.JWT_SECRET,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
      passwordHashMemoryKib: e.PASSWORD_HASH_MEMORY_KIB,
    },
    twoFactor: {
      keySecret: e.TWO_FACTOR_KEY ?? `jwt:${e.JWT_SECRET}`,
      challengeTtlSeconds: e.TWO_FACTOR_CHALLENGE_TTL_SECONDS,
      attemptsPerChallenge: e.TWO_FACTOR_ATTEMPTS_PER_CHALLENGE,
      attemptsPerHour: e.RATE_LIMIT_TWO_FACTOR_PER_HOUR,
    },
    rateLimits: {
      trustProxy: e.TRUST_PROXY,
      generalPerMinute: e.RATE_LIMIT_GENERAL_PER_MINUTE,
      loginPerMinute: e.RATE_LIMIT_LOGIN_PER_MINUTE,
      registerPerHour: e.RATE_LIMIT_REGISTER_PER_HOUR,
      likesPerMinute: e.RATE_LIMIT_LIKES_PER_MINUTE,
      searchPerMinute: e.RATE_LIMIT_SEARCH_PER_MINUTE,
      commentsPerMinute: e.RATE_LIMIT_COMMENTS_PER_MINUTE,
      playlistWritesPerMinute: e.RATE_LIMIT_PLAYLIST_WRITES_PER_MINUTE,
      passwordResetPerHour: e.RATE_LIMIT_PASSWORD_RESET_PER_HOUR,
      verificationEmailsPerHour: e.RATE_LIMIT_VERIFICATION_EMAILS_PER_HOUR,
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      verificationTtlSeconds: e.EMAIL_VERIFICATION_TTL_SECONDS,
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_SECONDS,
      digestHourUtc: e.NOTIFICATION_DIGEST_HOUR_UTC,
    },
    retention: { readNotificationDays: e.NOTIFICATION_RETENTION_DAYS, chatDays: e.CHAT_RETENTION_DAYS, viewDays: e.VIEW_RETENTION_DAYS },
    trending: { halfLifeHours: e.TRENDING_HALF_LIFE_HOURS, windowHours: e.TRENDING_WINDOW_HOURS },
    views: {
      windowSeconds: e.VIEW_WINDOW_SECONDS,
      heartbeatsPerMinute: e.RATE_LIMIT_VIEW_HEARTBEATS_PER_MINUTE,
      anonymousHeartbeatsPerAddressPerMinute: e.RATE_LIMIT_ANONYMOUS_VIEW_HEARTBEATS_PER_ADDRESS_PER_MINUTE,
    },
    streams: {
      reminderLeadSeconds: e.STREAM_REMINDER_LEAD_SECONDS,
      scheduledGraceSeconds: e.STREAM_SCHEDULED_GRACE_SECONDS,
      maxReconnects: e.STREAM_MAX_RECONNECTS,
      idleCloseDays: e.STREAM_IDLE_CLOSE_DAYS,
    },
    videos: {
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      uploadUrlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
      playbackUrlTtlSeconds: e.PLAYBACK_URL_TTL_SECONDS,
      uploadsPerHour: e.RATE_LIMIT_UPLOADS_PER_HOUR,
      editsPerHour: e.RATE_LIMIT_VIDEO_EDITS_PER_HOUR,
    },
    media: {
      maxDurationSeconds: e.MEDIA_MAX_DURATION_SECONDS,
      maxWidth: e.MEDIA_MAX_WIDTH,
      maxHeight: e.MEDIA_MAX_HEIGHT,
      maxFps: e.MEDIA_MAX_FPS,
      maxPixelsPerSecond: e.MEDIA_MAX_PIXELS_PER_SECOND,
    },
    internalSecret: e.INTERNAL_SECRET,
    payments: {
      stripe:
        e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
          ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBaseUrl: e.STRIPE_API_BASE_URL }
          : undefined,
      tipMinMinor: e.TIP_MIN_MINOR,
      tipMaxMinor: e.TIP_MAX_MINOR,
      disputeFeeMinor: e.DISPUTE_FEE_MINOR,
      paymentsPerHour: e.RATE_LIMIT_PAYMENTS_PER_HOUR,
    },
    payouts: {
      minimumAmount: e.PAYOUT_MINIMUM_MINOR,
      approvalDeadlineHours: e.PAYOUT_APPROVAL_DEADLINE_HOURS,
      settlementDeadlineDays: e.PAYOUT_SETTLEMENT_DEADLINE_DAYS,
      parallelism: e.PAYOUT_PARALLELISM,
      debtor: { name: e.PAYOUT_DEBTOR_NAME, iban: e.PAYOUT_DEBTOR_IBAN, bic: e.PAYOUT_DEBTOR_BIC },
      dataKeySecret: e.PAYOUT_DATA_KEY ?? `jwt:${e.JWT_SECRET}`,
    },
    money: {
      settlementCurrency: e.SETTLEMENT_CURRENCY,
      platformFeeBps: e.PLATFORM_FEE_BPS,
      paymentFeeBps: e.PAYMENT_FEE_BPS,
      paymentFeeFixedMinor: e.PAYMENT_FEE_FIXED_MINOR,
      coinCreatorValueMinor: e.COIN_CREATOR_VALUE_MINOR,
      earningsHoldDays: e.EARNINGS_HOLD_DAYS,
      giftsPerMinute: e.RATE_LIMIT_GIFTS_PER_MINUTE,
    },
    subscriptions: {
      tierPricesMinor: e.SUBSCRIPTION_TIER_PRICES_MINOR,
      creatorShareBps: e.SUBSCRIPTION_CREATOR_SHARE_BPS,
      graceSeconds: e.SUBSCRIPTION_GRACE_SECONDS,
      changesPerHour: e.RATE_LIMIT_SUBSCRIPTION_CHANGES_PER_HOUR,
    },
    moderation: {
      slaSeconds: { urgent: e.MODERATION_SLA_URGENT_SECONDS, high: e.MODERATION_SLA_HIGH_SECONDS, normal: e.MODERATION_SLA_NORMAL_SECONDS },
      claimSeconds: e.MODERATION_CLAIM_SECONDS,
      appealWindowSeconds: e.MODERATION_APPEAL_WINDOW_DAYS * 86_400,
      strikeSeconds: e.MODERATION_STRIKE_DAYS * 86_400,
      reportsPerHour: e.RATE_LIMIT_REPORTS_PER_HOUR,
      interimReporterMinAgeHours: e.MODERATION_INTERIM_REPORTER_MIN_AGE_HOURS,
    },
  };
}

/** For process entrypoints: a bad environment ends the process with a one-screen message. */
export function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee README.md ("Configuration") for every variable.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** Environment variables a child process needs to inherit; used by the local stack launcher. */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
