import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, parseConfig } from '../../lib/config.ts';
import { moneyRules } from '../../lib/money/config.ts';

const run = promisify(execFile);
const required = {
  S3_ACCESS_KEY_ID: 'streamhub',
  S3_SECRET_ACCESS_KEY: 'x'.repeat(20),
  INTERNAL_SECRET: 'y'.repeat(20),
  JWT_SECRET: 'z'.repeat(40),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills local-stack defaults when only the secrets are given', () => {
    const config = parseConfig(required);
    expect(config.api.port).toBe(3000);
    expect(config.realtime.port).toBe(3001);
    expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', taskQueue: 'streamhub', mediaTaskQueue: 'media' });
    expect(config.postgres.url).toBe('postgres://postgres@127.0.0.1:5432/streamhub');
    expect(config.s3.forcePathStyle).toBe(true);
  });

  it('coerces and applies overrides', () => {
    const config = parseConfig({ ...required, API_PORT: '4000', S3_FORCE_PATH_STYLE: 'false', NATS_SUBJECT_PREFIX: 'dev.' });
    expect(config.api.port).toBe(4000);
    expect(config.s3.forcePathStyle).toBe(false);
    expect(config.nats.subjectPrefix).toBe('dev.');
  });

  it('reads the notification digest hour: 8 UTC unless set, an hour of the day', () => {
    expect(parseConfig(required).mail.digestHourUtc).toBe(8);
    expect(parseConfig({ ...required, NOTIFICATION_DIGEST_HOUR_UTC: '0' }).mail.digestHourUtc).toBe(0);
    for (const bad of ['24', '-1', '7.5']) expect(problemsOf({ ...required, NOTIFICATION_DIGEST_HOUR_UTC: bad }).map((p) => p.split(':')[0])).toEqual(['NOTIFICATION_DIGEST_HOUR_UTC']);
  });

  it('reads the live-stream bounds and the recordings directory', () => {
    const defaults = parseConfig(required);
    expect(defaults.streams).toMatchObject({ maxReconnects: 50, idleCloseDays: 30 });
    expect(defaults.rtmpRecordingsDir).toBe('/var/lib/streamhub/recordings');
    const set = parseConfig({ ...required, STREAM_MAX_RECONNECTS: '0', STREAM_IDLE_CLOSE_DAYS: '7', RTMP_RECORDINGS_DIR: '/srv/rec/' });
    expect(set.streams).toMatchObject({ maxReconnects: 0, idleCloseDays: 7 });
    expect(set.rtmpRecordingsDir).toBe('/srv/rec');
    const named = problemsOf({ ...required, STREAM_MAX_RECONNECTS: '-1', STREAM_IDLE_CLOSE_DAYS: '0', RTMP_RECORDINGS_DIR: 'recordings' }).map((p) => p.split(':')[0]);
    expect(named.sort()).toEqual(['RTMP_RECORDINGS_DIR', 'STREAM_IDLE_CLOSE_DAYS', 'STREAM_MAX_RECONNECTS']);
  });

  it('bounds how long services wait for Postgres: 5 s to connect, 30 s per query, at least 100 ms each', () => {
    expect(parseConfig(required).postgres).toMatchObject({ connectTimeoutMs: 5000, queryTimeoutMs: 30_000 });
    expect(parseConfig({ ...required, DATABASE_CONNECT_TIMEOUT_MS: '100', DATABASE_QUERY_TIMEOUT_MS: '100' }).postgres).toMatchObject({ connectTimeoutMs: 100, queryTimeoutMs: 100 });
    expect(problemsOf({ ...required, DATABASE_CONNECT_TIMEOUT_MS: '99', DATABASE_QUERY_TIMEOUT_MS: '99' }).map((p) => p.split(':')[0])).toEqual([
      'DATABASE_CONNECT_TIMEOUT_MS',
      'DATABASE_QUERY_TIMEOUT_MS',
    ]);
  });

  it('turns payments on with both Stripe secrets, off with neither, and refuses one without the other', () => {
    const stripe = { STRIPE_SECRET_KEY: 'sk_test_0123456789abcdef', STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abcdef0123' };
    expect(parseConfig(required).payments).toMatchObject({ stripe: undefined });
    expect(parseConfig({ ...required, ...stripe }).payments.stripe).toEqual({ secretKey: stripe.STRIPE_SECRET_KEY, webhookSecret: stripe.STRIPE_WEBHOOK_SECRET, apiBaseUrl: undefined });
    expect(parseConfig({ ...required, ...stripe, STRIPE_API_BASE_URL: 'http://127.0.0.1:12111' }).payments.stripe?.apiBaseUrl).toBe('http://127.0.0.1:12111');
    expect(problemsOf({ ...required, STRIPE_SECRET_KEY: stripe.STRIPE_SECRET_KEY }).map((p) => p.split(':')[0])).toEqual(['STRIPE_WEBHOOK_SECRET']);
    expect(problemsOf({ ...required, STRIPE_WEBHOOK_SECRET: stripe.STRIPE_WEBHOOK_SECRET }).map((p) => p.split(':')[0])).toEqual(['STRIPE_SECRET_KEY']);
    expect(problemsOf({ ...required, STRIPE_SECRET_KEY: 'pk_test_publishable', STRIPE_WEBHOOK_SECRET: 'secret' }).map((p) => p.split(':')[0]).sort()).toEqual([
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
    ]);
    // A live key never travels over plain HTTP.
    const live = { STRIPE_SECRET_KEY: 'sk_live_0123456789abcdef', STRIPE_WEBHOOK_SECRET: stripe.STRIPE_WEBHOOK_SECRET };
    expect(problemsOf({ ...required, ...live, STRIPE_API_BASE_URL: 'http://stripe.internal' }).map((p) => p.split(':')[0])).toEqual(['STRIPE_API_BASE_URL']);
  });

  it('bounds tips (1.00 to 500.00 by default), charges disputes 15.00 and limits payments per user', () => {
    expect(parseConfig(required).payments).toMatchObject({ tipMinMinor: 100, tipMaxMinor: 50_000, disputeFeeMinor: 1500, paymentsPerHour: 60 });
    expect(parseConfig({ ...required, TIP_MIN_MINOR: '50', TIP_MAX_MINOR: '50', DISPUTE_FEE_MINOR: '0' }).payments).toMatchObject({ tipMinMinor: 50, tipMaxMinor: 50, disputeFeeMinor: 0 });
    expect(problemsOf({ ...required, TIP_MIN_MINOR: '500', TIP_MAX_MINOR: '100' }).map((p) => p.split(':')[0])).toEqual(['TIP_MIN_MINOR']);
    expect(problemsOf({ ...required, TIP_MIN_MINOR: '0', DISPUTE_FEE_MINOR: '-1' }).map((p) => p.split(':')[0]).sort()).toEqual(['DISPUTE_FEE_MINOR', 'TIP_MIN_MINOR']);
  });

  it('prices in one settlement currency, an ISO 4217 code in capitals', () => {
    expect(parseConfig({ ...required, SETTLEMENT_CURRENCY: 'eur' }).money.settlementCurrency).toBe('EUR');
    expect(problemsOf({ ...required, SETTLEMENT_CURRENCY: 'dollars' }).map((p) => p.split(':')[0])).toEqual(['SETTLEMENT_CURRENCY']);
  });

  it('reads the money rules: fees in basis points, integer minor units, the coin value and the hold', () => {
    const defaults = parseConfig(required);
    expect(defaults.money).toEqual({
      settlementCurrency: 'USD',
      platformFeeBps: 1000,
      paymentFeeBps: 290,
      paymentFeeFixedMinor: 30,
      coinCreatorValueMinor: 1,
      earningsHoldDays: 7,
      giftsPerMinute: 120,
    });
    expect(moneyRules(defaults)).toEqual({ currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n });
    const set = parseConfig({ ...required, SETTLEMENT_CURRENCY: 'EUR', PLATFORM_FEE_BPS: '0', COIN_CREATOR_VALUE_MINOR: '2', EARNINGS_HOLD_DAYS: '0' });
    expect(moneyRules(set)).toMatchObject({ currency: 'EUR', platformFeeBps: 0, coinCreatorValue: 2n });
    expect(set.money.earningsHoldDays).toBe(0);
    const named = problemsOf({
      ...required,
      SETTLEMENT_CURRENCY: 'dollars',
      PLATFORM_FEE_BPS: '10001',
      PAYMENT_FEE_BPS: '2.5',
      PAYMENT_FEE_FIXED_MINOR: '-1',
      COIN_CREATOR_VALUE_MINOR: '0',
      EARNINGS_HOLD_DAYS: '366',
      RATE_LIMIT_GIFTS_PER_MINUTE: '0',
    }).map((p) => p.split(':')[0]);
    expect(named.sort()).toEqual([
      'COIN_CREATOR_VALUE_MINOR',
      'EARNINGS_HOLD_DAYS',
      'PAYMENT_FEE_BPS',
      'PAYMENT_FEE_FIXED_MINOR',
      'PLATFORM_FEE_BPS',
      'RATE_LIMIT_GIFTS_PER_MINUTE',
      'SETTLEMENT_CURRENCY',
    ]);
  });

  it('reads trending and view retention, and keeps counted views at least as long as trending reads them', () => {
    expect(parseConfig(required).trending).toEqual({ halfLifeHours: 24, windowHours: 72 });
    expect(parseConfig(required).retention.viewDays).toBe(90);
    expect(parseConfig({ ...required, TRENDING_WINDOW_HOURS: '96', VIEW_RETENTION_DAYS: '4' }).trending.windowHours).toBe(96);
    expect(problemsOf({ ...required, TRENDING_WINDOW_HOURS: '97', VIEW_RETENTION_DAYS: '4' }).map((p) => p.split(':')[0])).toEqual(['VIEW_RETENTION_DAYS']);
    expect(problemsOf({ ...required, TRENDING_HALF_LIFE_HOURS: '0' }).map((p) => p.split(':')[0])).toEqual(['TRENDING_HALF_LIFE_HOURS']);
  });

  it('prices subscription tiers at 4.99, 9.99 and 24.99 by default and gives the creator half of the net', () => {
    expect(parseConfig(required).subscriptions).toEqual({ tierPricesMinor: [499, 999, 2499], creatorShareBps: 5000, graceSeconds: 259_200, changesPerHour: 30 });
    expect(parseConfig({ ...required, SUBSCRIPTION_TIER_PRICES_MINOR: '500,1000,2500' }).subscriptions.tierPricesMinor).toEqual([500, 1000, 2500]);
    for (const bad of ['499,999', '4.99,9.99,24.99', '0,999,2499']) {
      expect(problemsOf({ ...required, SUBSCRIPTION_TIER_PRICES_MINOR: bad }).map((p) => p.split(':')[0]), bad).toEqual(['SUBSCRIPTION_TIER_PRICES_MINOR']);
    }
  });

  it('documents every variable it reads in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(configVariables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('defaults every variable to the value the README table states', () => {
    // Each row names its variables and their defaults in the same order: a default that is a
    // literal (`value`) must give the same configuration as leaving the variable unset.
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const stated = new Map<string, string>();
    for (const row of readme.split('\n').filter((line) => /^\| `[A-Z][A-Z0-9_]*`/.test(line))) {
      const [namesCell, defaultsCell] = row.split(' | ');
      const names = [...namesCell!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
      const defaults = names.length === 1 ? [defaultsCell!] : defaultsCell!.split(/,\s+/);
      if (defaults.length !== names.length) continue;
      names.forEach((name, i) => {
        const literal = /^`([^`]+)`(?:\s+\(.*\))?$/.exec(defaults[i]!.trim());
        // `PUBLIC_API_URL` as a default means "that variable's value", not a literal.
        if (literal && !configVariables.includes(literal[1] as never)) stated.set(name, literal[1]!);
      });
    }
    expect(stated.size).toBeGreaterThan(60);
    const unset = parseConfig(required);
    const differing = [...stated].filter(([name, value]) => !isDeepStrictEqual(parseConfig({ ...required, [name]: value }), unset));
    expect(differing).toEqual([]);
  });

  it('reads a workflow bundle built ahead only when WORKFLOW_BUNDLE_PATH names one', () => {
    expect(parseConfig(required).temporal.workflowBundlePath).toBeUndefined();
    expect(parseConfig({ ...required, WORKFLOW_BUNDLE_PATH: '/app/dist/workflow-bundle.js' }).temporal.workflowBundlePath).toBe('/app/dist/workflow-bundle.js');
  });

  it('treats empty variables as unset', () => {
    expect(parseConfig({ ...required, API_PORT: '' }).api.port).toBe(3000);
  });

  it('reports every bad variable at once, by name', () => {
    const problems = problemsOf({
      API_PORT: 'abc',
      DATABASE_URL: 'mysql://x',
      TEMPORAL_ADDRESS: 'no-port',
      S3_BUCKET: 'Bad_Bucket',
      INTERNAL_SECRET: 'short',
    });
    const named = problems.map((p) => p.split(':')[0]);
    expect(named).toEqual(
      expect.arrayContaining(['API_PORT', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'S3_BUCKET', 'INTERNAL_SECRET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'JWT_SECRET']),
    );
  });

  it('stops a process at boot with a one-screen message naming the variable', async () => {
    const script = "import('./lib/config.ts').then((m) => m.loadConfig())";
    const result = await run(process.execPath, ['-e', script], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, ...required, API_PORT: '99999' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('API_PORT');
    expect(result.stderr.split('\n').length).toBeLessThan(25);
    expect(result.stderr).not.toMatch(/at .*\(.*:\d+:\d+\)/); // no stack trace
  });
});
