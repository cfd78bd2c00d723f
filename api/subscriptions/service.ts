import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { isUniqueViolation, type Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SubscriptionEndedReason, SubscriptionStatus, SubscriptionTier } from '../../lib/schema.ts';
import { PaymentProviderError, paymentErrorToAppError, stripeIdempotencyKey, type SubscriptionGateway } from '../../lib/stripe.ts';
import { SUBSCRIPTION_SIGNALS, type CancellationChangedSignal } from '../../workflows/plans/subscription-signals.ts';
import { CURRENT_STATUSES, defaultTierName, SUBSCRIPTION_TIERS, tierPrice, type SubscriptionRules } from '../../lib/subscriptions/rules.ts';
import { startSubscriptionWorkflow } from '../../lib/subscriptions/workflow-start.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { WorkflowNotFoundError } from '@temporalio/client';

// Channel subscriptions as the API starts and changes them (README "Subscriptions"). A
// `subscriptions` row claims the subscriber's idempotency key first; then its workflow is
// started and Stripe asked for a Customer and a Subscription under keys made from our ids, so
// every retry of the request ends at the same row and the same Stripe subscription. After
// creation only the `subscription/<id>` workflow writes the status; the API writes what the
// owner chose (cancel at period end, the tier) and tells Stripe and the workflow.

export interface SubscriptionServiceDeps {
  db: Db;
  temporal: Temporal;
  gateway: SubscriptionGateway;
  rules: SubscriptionRules;
  currency: string;
  logger: Pick<Logger, 'warn'>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const providerError = (err: unknown): never => {
  throw err instanceof PaymentProviderError ? paymentErrorToAppError(err) : err;
};

// ── Tiers ────────────────────────────────────────────────────────────────────

export interface TierView {
  tier: SubscriptionTier;
  name: string;
  price: number;
  currency: string;
}

export async function tiersOf(db: Db, rules: SubscriptionRules, currency: string, channelId: string): Promise<TierView[]> {
  const names = await db.selectFrom('subscription_tier_names').select(['tier', 'name']).where('channel_id', '=', channelId).execute();
  const named = new Map(names.map((n) => [n.tier, n.name]));
  return SUBSCRIPTION_TIERS.map((tier) => ({ tier, name: named.get(tier) ?? defaultTierName(tier), price: Number(tierPrice(rules, tier)), currency }));
}

export async function renameTiers(db: Db, channelId: string, tiers: { tier: SubscriptionTier; name: string }[]): Promise<void> {
  if (tiers.length === 0) return;
  await db
    .insertInto('subscription_tier_names')
    .values(tiers.map((t) => ({ channel_id: channelId, tier: t.tier, name: t.name })))
    .onConflict((oc) => oc.columns(['channel_id', 'tier']).doUpdateSet({ name: (eb) => eb.ref('excluded.name'), updated_at: sql<Date>`now()` }))
    .execute();
}

/** A channel by id or username that can be subscribed to; 404 otherwise. */
export async function findChannel(db: Db, idOrUsername: string): Promise<{ id: string }> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'status', 'deleted_at'])
    .where((eb) => (UUID.test(idOrUsername) ? eb('id', '=', idOrUsername) : eb(sql`lower(username)`, '=', idOrUsername.toLowerCase())))
    .executeTakeFirst();
  if (!row || row.deleted_at || row.status === 'banned') throw new AppError('not_found', `No channel ${idOrUsername}`);
  return { id: row.id };
}

// ── Views ────────────────────────────────────────────────────────────────────

interface ViewRow {
  id: string;
  channel_id: string;
  channel_username: string;
  channel_display_name: string;
  subscriber_id: string;
  subscriber_username: string;
  subscriber_display_name: string;
  tier: SubscriptionTier;
  tier_name: string | null;
  price: string;
  currency: string;
  status: SubscriptionStatus;
  renews: boolean;
  cancel_at_period_end: boolean;
  current_period_start: Date | null;
  current_period_end: Date | null;
  past_due_since: Date | null;
  gift_id: string | null;
  giver_id: string | null;
  giver_username: string | null;
  giver_display_name: string | null;
  months: number;
  created_at: Date;
  created_at_text: string;
  ended_at: Date | null;
  ended_reason: SubscriptionEndedReason | null;
}

export type SubscriptionView = ReturnType<typeof toView>;

function toView(r: ViewRow) {
  return {
    id: r.id,
    channel: { id: r.channel_id, username: r.channel_username, displayName: r.channel_display_name },
    subscriber: { id: r.subscriber_id, username: r.subscriber_username, displayName: r.subscriber_display_name },
    tier: r.tier,
    tierName: r.tier_name ?? defaultTierName(r.tier),
    price: Number(r.price),
    currency: r.currency,
    status: r.status,
    renews: r.renews,
    cancelAtPeriodEnd: r.cancel_at_period_end,
    currentPeriodStart: r.current_period_start?.toISOString() ?? null,
    currentPeriodEnd: r.current_period_end?.toISOString() ?? null,
    pastDueSince: r.past_due_since?.toISOString() ?? null,
    gift: r.gift_id ? { id: r.gift_id, giver: { id: r.giver_id!, username: r.giver_username!, displayName: r.giver_display_name! } } : null,
    monthsSubscribed: Number(r.months),
    createdAt: r.created_at.toISOString(),
    endedAt: r.ended_at?.toISOString() ?? null,
    endedReason: r.ended_reason,
  };
}

/** Subscriptions as views, filtered by `where` (a condition on `s`), newest first. */
async function viewRows(db: Db, where: ReturnType<typeof sql>, limit: number): Promise<ViewRow[]> {
  const { rows } = await sql<ViewRow>`
    select s.id, s.channel_id, c.username as channel_username, c.display_name as channel_display_name,
      s.subscriber_id, u.username as subscriber_username, u.display_name as subscriber_display_name,
      s.tier, n.name as tier_name, s.price::text as price, s.currency, s.status, s.renews, s.cancel_at_period_end,
      s.current_period_start, s.current_period_end, s.past_due_since, s.gift_id,
      g.giver_id, gu.username as giver_username, gu.display_name as giver_display_name,
      (select count(*) from subscription_periods p where p.subscriber_id = s.subscriber_id and p.channel_id = s.channel_id)::int as months,
      s.created_at, s.created_at::text as created_at_text, s.ended_at, s.ended_reason
    from subscriptions s
    join users c on c.id = s.channel_id
    join users u on u.id = s.subscriber_id
    left join subscription_tier_names n on n.channel_id = s.channel_id and n.tier = s.tier
    left join subscription_gifts g on g.id = s.gift_id
    left join users gu on gu.id = g.giver_id
    where ${where}
    order by s.created_at desc, s.id desc
    limit ${limit}`.execute(db);
  return rows;
}

export async function subscriptionView(db: Db, id: string): Promise<SubscriptionView> {
  const [row] = await viewRows(db, sql`s.id = ${id}`, 1);
  if (!row) throw new AppError('not_found', 'No such subscription');
  return toView(row);
}

/** The current subscription of this subscriber to this channel, else the latest one that ended; undefined when never subscribed. */
export async function ownSubscriptionTo(db: Db, subscriberId: string, channelId: string): Promise<SubscriptionView | null> {
  const [current] = await viewRows(db, sql`s.subscriber_id = ${subscriberId} and s.channel_id = ${channelId} and s.status in ('incomplete', 'active', 'past_due')`, 1);
  if (current) return toView(current);
  const [latest] = await viewRows(db, sql`s.subscriber_id = ${subscriberId} and s.channel_id = ${channelId}`, 1);
  return latest ? toView(latest) : null;
}

/** A page of the subscriber's subscriptions, newest first; `after` is the last row's (created_at text, id). */
export async function ownSubscriptions(db: Db, subscriberId: string, input: { current: boolean; after?: { at: string; id: string }; limit: number }) {
  const conditions = [sql`s.subscriber_id = ${subscriberId}`];
  if (input.current) conditions.push(sql`s.status in ('incomplete', 'active', 'past_due')`);
  if (input.after) conditions.push(sql`(s.created_at, s.id) < (${input.after.at}::timestamptz, ${input.after.id}::uuid)`);
  const rows = await viewRows(db, sql.join(conditions, sql` and `), input.limit + 1);
  return rows.map((r) => ({ view: toView(r), cursor: { at: r.created_at_text, id: r.id } }));
}

// ── Subscribe ────────────────────────────────────────────────────────────────

export interface SubscribeResult {
  view: SubscriptionView;
  clientSecret: string | null;
  /** False when the key had been used before for the same request. */
  created: boolean;
}

const fingerprint = (channelId: string, tier: SubscriptionTier) => createHash('sha256').update(JSON.stringify(['subscription', channelId, tier])).digest('hex');

/** How long after the request Stripe is still asked again under the subscription's own key (Stripe keeps keys 24 h). */
const PROVIDER_KEY_WINDOW_MS = 23 * 3600_000;

export async function subscribe(deps: SubscriptionServiceDeps, input: { subscriberId: string; channelId: string; tier: SubscriptionTier; idempotencyKey: string }): Promise<SubscribeResult> {
  const { db } = deps;
  const digest = fingerprint(input.channelId, input.tier);
  const byKey = () =>
    db.selectFrom('subscriptions').select(['id', 'request_fingerprint']).where('subscriber_id', '=', input.subscriberId).where('idempotency_key', '=', input.idempotencyKey).executeTakeFirst();
  let earlier = await byKey();
  if (earlier && earlier.request_fingerprint !== digest) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different subscription; use a new key for a new subscription');
  }
  let created = false;
  if (!earlier) {
    if (input.subscriberId === input.channelId) throw new AppError('unprocessable', 'You cannot subscribe to your own channel');
    const id = randomUUID();
    try {
      await db
        .insertInto('subscriptions')
        .values({
          id,
          subscriber_id: input.subscriberId,
          channel_id: input.channelId,
          tier: input.tier,
          price: tierPrice(deps.rules, input.tier).toString(),
          currency: deps.currency,
          idempotency_key: input.idempotencyKey,
          request_fingerprint: digest,
        })
        .execute();
      earlier = { id, request_fingerprint: digest };
      created = true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // A concurrent request with the same key won the race: answer with its subscription.
      earlier = await byKey();
      if (earlier && earlier.request_fingerprint !== digest) throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different subscription');
      if (!earlier) {
        const current = await db
          .selectFrom('subscriptions')
          .select('id')
          .where('subscriber_id', '=', input.subscriberId)
          .where('channel_id', '=', input.channelId)
          .where('status', 'in', CURRENT_STATUSES)
          .executeTakeFirst();
        throw new AppError('conflict', 'You already have a subscription to this channel', { subscriptionId: current?.id ?? null });
      }
    }
  }
  const clientSecret = await ensureProviderSubscription(deps, earlier.id);
  return { view: await subscriptionView(db, earlier.id), clientSecret, created };
}

/**
 * The subscription's workflow, its Customer and its Stripe subscription, made once: each step
 * is idempotent (the workflow id, Stripe keys from our ids), so a retried request finishes what
 * an interrupted one began. Answers the client secret while the first invoice is unpaid.
 */
async function ensureProviderSubscription(deps: SubscriptionServiceDeps, id: string): Promise<string | null> {
  const { db } = deps;
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  if (row.status !== 'incomplete') return null;
  await startSubscriptionWorkflow(deps.temporal, { subscriptionId: id, graceSeconds: deps.rules.graceSeconds }, row.channel_id);
  if (row.provider_client_secret || row.provider_subscription_id) return row.provider_client_secret;
  if (Date.now() - row.created_at.getTime() > PROVIDER_KEY_WINDOW_MS) return null;
  let customerId = row.provider_customer_id;
  if (!customerId) {
    const known = await db
      .selectFrom('subscriptions')
      .select('provider_customer_id')
      .where('subscriber_id', '=', row.subscriber_id)
      .where('provider_customer_id', 'is not', null)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    customerId = known?.provider_customer_id ?? null;
  }
  if (!customerId) {
    const user = await db.selectFrom('users').select('email').where('id', '=', row.subscriber_id).executeTakeFirstOrThrow();
    customerId = (await deps.gateway.createCustomer({ userId: row.subscriber_id, email: user.email, idempotencyKey: stripeIdempotencyKey('customer', row.subscriber_id) }).catch(providerError)).id;
  }
  await db.updateTable('subscriptions').set({ provider_customer_id: customerId }).where('id', '=', id).where('provider_customer_id', 'is', null).execute();
  const created = await deps.gateway
    .createSubscription({
      subscriptionId: id,
      customerId,
      tier: row.tier,
      amount: BigInt(row.price),
      currency: row.currency,
      metadata: { subscriptionId: id, channelId: row.channel_id, subscriberId: row.subscriber_id, tier: String(row.tier) },
    })
    .catch(providerError);
  try {
    await db
      .updateTable('subscriptions')
      .set({ provider_subscription_id: created.id, provider_client_secret: created.clientSecret })
      .where('id', '=', id)
      .where('provider_subscription_id', 'is', null)
      .execute();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Stripe's ids are unique; a stand-in such as stripe-mock answers every subscription with
    // the same fixture id. Events find ours by the metadata id all the same.
    deps.logger.warn({ subscriptionId: id, providerSubscriptionId: created.id }, 'provider subscription id already held by another subscription; not stored');
    await db.updateTable('subscriptions').set({ provider_client_secret: created.clientSecret }).where('id', '=', id).execute();
  }
  return created.clientSecret;
}

// ── The owner's changes ──────────────────────────────────────────────────────

interface OwnRow {
  id: string;
  subscriber_id: string;
  channel_id: string;
  status: SubscriptionStatus;
  renews: boolean;
  tier: SubscriptionTier;
  currency: string;
  cancel_at_period_end: boolean;
  current_period_end: Date | null;
  provider_subscription_id: string | null;
  updated_at: Date;
}

async function ownRow(db: Db, id: string, subscriberId: string): Promise<OwnRow> {
  const row = await db
    .selectFrom('subscriptions')
    .select(['id', 'subscriber_id', 'channel_id', 'status', 'renews', 'tier', 'currency', 'cancel_at_period_end', 'current_period_end', 'provider_subscription_id', 'updated_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || row.subscriber_id !== subscriberId) throw new AppError('not_found', 'No such subscription');
  return row;
}

function assertChangeable(row: OwnRow, what: string): void {
  if (!row.renews) throw new AppError('conflict', `A gift subscription cannot be ${what}: it ends by itself`);
  if (row.status !== 'active' && row.status !== 'past_due') throw new AppError('conflict', `Only an active or past-due subscription can be ${what} (this one is ${row.status})`, { status: row.status });
}

/** Cancels (or resumes) at period end: Stripe first, then our row, then the workflow hears of it. */
export async function setCancelAtPeriodEnd(deps: SubscriptionServiceDeps, input: { id: string; subscriberId: string; cancel: boolean }): Promise<SubscriptionView> {
  const { db } = deps;
  const row = await ownRow(db, input.id, input.subscriberId);
  assertChangeable(row, input.cancel ? 'cancelled' : 'resumed');
  if (row.cancel_at_period_end === input.cancel) return subscriptionView(db, row.id);
  if (!input.cancel && row.current_period_end && row.current_period_end.getTime() <= Date.now()) {
    throw new AppError('conflict', 'The period has ended: subscribe again instead');
  }
  // One key per change of state: a retry of this request is one request to Stripe.
  const step = `${input.cancel ? 'cancel' : 'resume'}-${row.updated_at.getTime()}`;
  if (row.provider_subscription_id) {
    await deps.gateway
      .setCancelAtPeriodEnd({ providerSubscriptionId: row.provider_subscription_id, cancel: input.cancel, idempotencyKey: stripeIdempotencyKey('subscription', row.id, step) })
      .catch(providerError);
  }
  await db
    .updateTable('subscriptions')
    .set({ cancel_at_period_end: input.cancel, updated_at: sql<Date>`now()` })
    .where('id', '=', row.id)
    .where('status', 'in', ['active', 'past_due'])
    .execute();
  const signal: CancellationChangedSignal = { cancelAtPeriodEnd: input.cancel, at: Date.now() };
  await signalWorkflow(deps.temporal, row.id, SUBSCRIPTION_SIGNALS.cancellationChanged, signal);
  return subscriptionView(db, row.id);
}

/** Moves to another tier: Stripe prorates; our books take each invoice's amount as it comes. */
export async function changeTier(deps: SubscriptionServiceDeps, input: { id: string; subscriberId: string; tier: SubscriptionTier }): Promise<SubscriptionView> {
  const { db } = deps;
  const row = await ownRow(db, input.id, input.subscriberId);
  assertChangeable(row, 'changed');
  if (row.tier === input.tier) return subscriptionView(db, row.id);
  const price = tierPrice(deps.rules, input.tier);
  if (row.provider_subscription_id) {
    await deps.gateway
      .changeTier({
        providerSubscriptionId: row.provider_subscription_id,
        tier: input.tier,
        amount: price,
        currency: row.currency,
        idempotencyKey: stripeIdempotencyKey('subscription', row.id, `tier-${input.tier}-${row.updated_at.getTime()}`),
      })
      .catch(providerError);
  }
  await db.updateTable('subscriptions').set({ tier: input.tier, price: price.toString(), updated_at: sql<Date>`now()` }).where('id', '=', row.id).execute();
  return subscriptionView(db, row.id);
}

/** A signal to a running subscription workflow; one that has finished has nothing to hear. */
async function signalWorkflow(temporal: Temporal, id: string, name: string, payload: unknown): Promise<void> {
  try {
    await temporal.client.workflow.getHandle(workflowIds.subscription(id)).signal(name, payload);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
