import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { App } from '../../api/app.ts';
import { createPaymentEventHandlers } from '../../activities/payment-handlers.ts';
import type { Db } from '../../lib/db.ts';
import { accountCode, balancesOf, platformAccount, userAccount, COIN, type AccountKind } from '../../lib/ledger/index.ts';
import type { BookingDeps } from '../../lib/money/payment-bookings.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';
import type { Logger } from '../../lib/logger.ts';
import type { PaymentKind } from '../../lib/schema.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { TestContext } from './context.ts';
import type { TestUser } from './fixtures.ts';
import { call } from './http.ts';
import { sendStripeEvent } from './stripe.ts';

// Payments as a test drives them: started through the API (stripe-mock answers), then told
// about by signed Stripe events through the webhook, applied by the real handlers.

export const moneyRules: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
export const DISPUTE_FEE = 1500n;

/** The creator's share of subscription money in tests (the default, 50 %). */
export const SUBSCRIPTION_SHARE_BPS = 5000;
/** Gifted subscriptions in tests last a minute, not a month. */
export const GIFT_PERIOD_SECONDS = 60;

export const paymentHandlers = (logger: BookingDeps['logger']) =>
  createPaymentEventHandlers({
    rules: moneyRules,
    disputeFee: DISPUTE_FEE,
    subscriptionShareBps: SUBSCRIPTION_SHARE_BPS,
    gifts: { graceSeconds: 3600, giftPeriodSeconds: GIFT_PERIOD_SECONDS },
    logger,
  });

export interface LoggedLine {
  level: 'error' | 'warn';
  msg: string;
  [field: string]: unknown;
}

/** A logger for the handlers that keeps what they log, for tests to read (and out of the test output). */
export function capturingLogger(): { logger: BookingDeps['logger']; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: LoggedLine['level']) => ((fields: object, msg: string) => void lines.push({ ...fields, level, msg })) as unknown as Logger['error'];
  return { logger: { error: at('error'), warn: at('warn') }, lines };
}

export interface StartedPayment {
  id: string;
  kind: PaymentKind;
  amount: number;
  status: string;
  clientSecret: string;
  /** The PaymentIntent created for it. */
  paymentIntentId: string;
}

/** The API's answer, with the PaymentIntent id it stored (stripe-mock's client secrets name a fixture intent). */
async function started(db: Db, data: { payment: Omit<StartedPayment, 'clientSecret' | 'paymentIntentId'>; clientSecret: string }): Promise<StartedPayment> {
  const row = await db.selectFrom('payments').select('provider_payment_intent_id').where('id', '=', data.payment.id).executeTakeFirstOrThrow();
  return { ...data.payment, clientSecret: data.clientSecret, paymentIntentId: row.provider_payment_intent_id! };
}

export async function startTip(db: Db, app: App, payer: TestUser, body: Record<string, unknown>, key = randomUUID()): Promise<StartedPayment> {
  const res = await call(app, 'POST', '/api/v1/tips', { headers: { ...payer.auth, 'idempotency-key': key }, body: { currency: 'USD', ...body } });
  expect(res.status, res.text).toBe(201);
  return started(db, res.json.data);
}

export async function buyCoins(db: Db, app: App, payer: TestUser, slug: string, key = randomUUID()): Promise<StartedPayment> {
  const packs = (await call(app, 'GET', '/api/v1/coin-packs')).json.data as { id: string; slug: string }[];
  const pack = packs.find((p) => p.slug === slug);
  if (!pack) throw new Error(`no coin pack ${slug}`);
  const res = await call(app, 'POST', '/api/v1/coin-purchases', { headers: { ...payer.auth, 'idempotency-key': key }, body: { coinPackId: pack.id } });
  expect(res.status, res.text).toBe(201);
  return started(db, res.json.data);
}

/** Our payment's charge, as Stripe would name it (unique per payment, unlike stripe-mock's ids). */
export const chargeIdOf = (paymentId: string) => `ch_${paymentId.replaceAll('-', '')}`;
const metadataOf = (p: Pick<StartedPayment, 'id' | 'kind'>) => ({ paymentId: p.id, kind: p.kind });

/** `data.object` of each event type about one of our payments; `over` replaces fields. */
export const stripeObjects = {
  succeeded: (p: Pick<StartedPayment, 'id' | 'kind' | 'amount' | 'paymentIntentId'>, over: Record<string, unknown> = {}) => ({
    id: p.paymentIntentId,
    object: 'payment_intent',
    amount: p.amount,
    amount_received: p.amount,
    currency: 'usd',
    status: 'succeeded',
    latest_charge: chargeIdOf(p.id),
    metadata: metadataOf(p),
    ...over,
  }),
  failed: (p: Pick<StartedPayment, 'id' | 'kind' | 'amount' | 'paymentIntentId'>, message = 'Your card was declined.') => ({
    id: p.paymentIntentId,
    object: 'payment_intent',
    amount: p.amount,
    currency: 'usd',
    status: 'requires_payment_method',
    last_payment_error: { code: 'card_declined', message },
    metadata: metadataOf(p),
  }),
  /** Stripe copies the PaymentIntent's metadata onto its charge; `amount_refunded` is cumulative. */
  refunded: (p: Pick<StartedPayment, 'id' | 'kind' | 'amount' | 'paymentIntentId'>, amountRefunded: number) => ({
    id: chargeIdOf(p.id),
    object: 'charge',
    payment_intent: p.paymentIntentId,
    amount: p.amount,
    amount_refunded: amountRefunded,
    refunded: amountRefunded >= p.amount,
    currency: 'usd',
    metadata: metadataOf(p),
  }),
  /** Disputes carry no metadata: they are found by their charge. */
  dispute: (p: Pick<StartedPayment, 'id' | 'paymentIntentId'>, input: { id: string; amount: number; status: string }) => ({
    id: input.id,
    object: 'dispute',
    amount: input.amount,
    currency: 'usd',
    status: input.status,
    reason: 'fraudulent',
    charge: chargeIdOf(p.id),
    payment_intent: p.paymentIntentId,
    metadata: {},
  }),
};

/** Sends a signed event through the webhook and waits until its workflow has applied it. */
export async function deliver(app: App, ctx: TestContext, type: string, object: Record<string, unknown>): Promise<string> {
  const { event, res } = await sendStripeEvent(app, ctx.config, { type, object });
  expect(res.status, res.text).toBe(200);
  const outcome = await ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', event.id)).result();
  expect(outcome).toEqual({ outcome: 'applied', type });
  return event.id;
}

/** Balances (normal side) of the accounts a test looks at; missing accounts read 0. */
export async function moneyOf(db: Db, refs: { creatorId?: string; buyerId?: string }) {
  const platform = (kind: AccountKind) => platformAccount(kind, 'USD');
  const accounts = {
    clearing: platform('provider_clearing'),
    fees: platform('processing_fees'),
    revenue: platform('platform_revenue'),
    losses: platform('refund_losses'),
    liability: platform('coin_liability'),
    ...(refs.creatorId
      ? { pending: userAccount('earnings_pending', refs.creatorId, 'USD'), available: userAccount('earnings_available', refs.creatorId, 'USD') }
      : {}),
    ...(refs.buyerId ? { wallet: userAccount('coin_wallet', refs.buyerId, COIN) } : {}),
  };
  const balances = await balancesOf(db, Object.values(accounts));
  return Object.fromEntries(Object.entries(accounts).map(([name, ref]) => [name, balances.get(accountCode(ref))!])) as Record<keyof typeof accounts, bigint> & {
    pending: bigint;
    available: bigint;
    wallet: bigint;
  };
}

/** Entries booked for one payment, in the order they were posted (entries of one transaction share created_at). */
export async function entriesOf(db: Db, paymentId: string) {
  return db
    .selectFrom('ledger_entries as e')
    .select(['e.id', 'e.idempotency_key', 'e.kind', 'e.reverses'])
    .where('e.idempotency_key', 'like', `payment/${paymentId}/%`)
    .orderBy(sql`(select min(p.id) from ledger_postings p where p.entry_id = e.id)`)
    .execute();
}
