import { sql } from 'kysely';
import type { Config } from '../lib/config.ts';
import type { Db, Tx } from '../lib/db.ts';
import { moneyRules } from '../lib/money/config.ts';
import { postEntry } from '../lib/ledger/store.ts';
import type { MoneyRules } from '../lib/money/rules.ts';
import type { Nats } from '../lib/nats.ts';
import type { SubscriptionEndedReason, SubscriptionStatus } from '../lib/schema.ts';
import { announceSubscription, subscriptionEventIds } from '../lib/subscriptions/announce.ts';
import { mailNotificationEvent } from '../lib/notifications.ts';
import { activityTemporal } from './activity-temporal.ts';
import { subscriptionShareLines } from '../lib/subscriptions/rules.ts';

// The writes of a `subscription/<id>` workflow (workflows/subscription.ts), the only writer of
// a subscription's status once it exists. Each is one transaction under the subscription row's
// lock and safe to repeat: a paid period is one `subscription_periods` row per provider invoice
// (unique) and one ledger entry keyed `subscription/<id>/invoice/<invoice id>`, so a retried
// activity, a duplicate event or a replayed workflow books nothing twice; a period older than
// the current one never moves the subscription back.

export interface SubscriptionActivityDeps {
  db: Db;
  nats: Nats;
  /** The money rules of the deployment (processing fee, settlement currency). */
  money: MoneyRules;
  /** The creator's share of a paid period's net, basis points. */
  creatorShareBps: number;
}

/** Where a subscription stands after an activity: what the workflow needs to wait for next. */
export interface SubscriptionState {
  status: SubscriptionStatus;
  cancelAtPeriodEnd: boolean;
  /** ISO 8601, null before the first paid period. */
  periodEnd: string | null;
  pastDueSince: string | null;
}

export interface PaidPeriodResult extends SubscriptionState {
  /** `booked`: a new period (and its share); `duplicate`: that invoice was booked before. */
  outcome: 'booked' | 'duplicate' | 'unknown_subscription';
  /** True when this period made an incomplete subscription active (the first payment). */
  activated: boolean;
}

export interface LoadedSubscription extends SubscriptionState {
  giftId: string | null;
  renews: boolean;
  createdAt: string;
}

/** The activities' money rules from the deployment's config. */
export function subscriptionActivityDeps(config: Config): Pick<SubscriptionActivityDeps, 'money' | 'creatorShareBps'> {
  return { money: moneyRules(config), creatorShareBps: config.subscriptions.creatorShareBps };
}

export const subscriptionEntryKey = (subscriptionId: string, invoiceId: string) => `subscription/${subscriptionId}/invoice/${invoiceId}`;

type Row = {
  id: string;
  subscriber_id: string;
  channel_id: string;
  tier: 1 | 2 | 3;
  price: string;
  status: SubscriptionStatus;
  cancel_at_period_end: boolean;
  current_period_end: Date | null;
  past_due_since: Date | null;
  gift_id: string | null;
  renews: boolean;
  created_at: Date;
};

async function lockRow(trx: Tx | Db, id: string): Promise<Row | undefined> {
  const { rows } = await sql<Row>`select id, subscriber_id, channel_id, tier, price::text as price, status, cancel_at_period_end,
      current_period_end, past_due_since, gift_id, renews, created_at
    from subscriptions where id = ${id} for update`.execute(trx);
  return rows[0];
}

const stateOf = (row: Pick<Row, 'status' | 'cancel_at_period_end' | 'current_period_end' | 'past_due_since'>): SubscriptionState => ({
  status: row.status,
  cancelAtPeriodEnd: row.cancel_at_period_end,
  periodEnd: row.current_period_end?.toISOString() ?? null,
  pastDueSince: row.past_due_since?.toISOString() ?? null,
});

const CURRENT = ['incomplete', 'active', 'past_due'] as const;
const isCurrent = (status: SubscriptionStatus) => (CURRENT as readonly string[]).includes(status);

export function createSubscriptionActivities(deps: SubscriptionActivityDeps) {
  const { db } = deps;

  async function end(subscriptionId: string, reason: SubscriptionEndedReason, guard: (row: Row) => boolean): Promise<SubscriptionState> {
    return db.transaction().execute(async (trx) => {
      const row = await lockRow(trx, subscriptionId);
      if (!row) throw new Error(`no subscription ${subscriptionId}`);
      if (!isCurrent(row.status) || !guard(row)) return stateOf(row);
      const status: SubscriptionStatus = reason === 'lapsed' ? 'lapsed' : 'ended';
      const updated = await trx
        .updateTable('subscriptions')
        .set({ status, ended_reason: reason, ended_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', subscriptionId)
        .returning(['status', 'cancel_at_period_end', 'current_period_end', 'past_due_since'])
        .executeTakeFirstOrThrow();
      return stateOf(updated);
    });
  }

  return {
    /** The subscription as its workflow starts (or continues) it. */
    async loadSubscription(subscriptionId: string): Promise<LoadedSubscription> {
      const row = await lockRow(db, subscriptionId);
      if (!row) throw new Error(`no subscription ${subscriptionId}`);
      return { ...stateOf(row), giftId: row.gift_id, renews: row.renews, createdAt: row.created_at.toISOString() };
    },

    /**
     * Books one paid invoice: its period row, the revenue share (creator's share to pending
     * earnings, the rest to the platform) and, when it is the newest period, the subscription's
     * status and period, in one transaction. A duplicate invoice changes nothing; an older
     * period is booked (the money came in) but moves nothing back.
     */
    async recordPaidPeriodAndShare(input: { subscriptionId: string; invoiceId: string; amount: string; periodStart: string; periodEnd: string }): Promise<PaidPeriodResult> {
      return db.transaction().execute(async (trx) => {
        const row = await lockRow(trx, input.subscriptionId);
        if (!row) return { outcome: 'unknown_subscription', activated: false, status: 'ended', cancelAtPeriodEnd: false, periodEnd: null, pastDueSince: null };
        const amount = BigInt(input.amount);
        const periodStart = new Date(input.periodStart);
        const periodEnd = new Date(input.periodEnd);
        const inserted = await trx
          .insertInto('subscription_periods')
          .values({
            subscription_id: row.id,
            subscriber_id: row.subscriber_id,
            channel_id: row.channel_id,
            tier: row.tier,
            provider_invoice_id: input.invoiceId,
            amount: amount.toString(),
            currency: deps.money.currency,
            period_start: periodStart,
            period_end: periodEnd,
          })
          .onConflict((oc) => oc.column('provider_invoice_id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) return { outcome: 'duplicate', activated: false, ...stateOf(row) };
        if (amount > 0n) {
          const posted = await postEntry(trx, {
            idempotencyKey: subscriptionEntryKey(row.id, input.invoiceId),
            kind: 'subscription.period_paid',
            refs: { subscriptionId: row.id, invoiceId: input.invoiceId, creatorId: row.channel_id, subscriberId: row.subscriber_id },
            lines: subscriptionShareLines(row.channel_id, amount, deps.money, deps.creatorShareBps),
          });
          await trx.updateTable('subscription_periods').set({ entry_id: posted.entryId }).where('id', '=', inserted.id).execute();
        }
        const newer = row.current_period_end === null || periodEnd.getTime() > row.current_period_end.getTime();
        if (!newer || !isCurrent(row.status)) return { outcome: 'booked', activated: false, ...stateOf(row) };
        const updated = await trx
          .updateTable('subscriptions')
          .set({ status: 'active', current_period_start: periodStart, current_period_end: periodEnd, past_due_since: null, updated_at: sql<Date>`now()` })
          .where('id', '=', row.id)
          .returning(['status', 'cancel_at_period_end', 'current_period_end', 'past_due_since'])
          .executeTakeFirstOrThrow();
        return { outcome: 'booked', activated: row.status === 'incomplete', ...stateOf(updated) };
      });
    },

    /**
     * A renewal invoice failed: an active subscription becomes past_due (perks kept for the
     * grace period). Ignored for an invoice already paid, or one for a period not newer than
     * the current one (a late failure of an earlier attempt).
     */
    async markSubscriptionPastDue(input: { subscriptionId: string; invoiceId: string; periodEnd: string | null }): Promise<SubscriptionState> {
      return db.transaction().execute(async (trx) => {
        const row = await lockRow(trx, input.subscriptionId);
        if (!row) throw new Error(`no subscription ${input.subscriptionId}`);
        if (row.status !== 'active') return stateOf(row);
        const paid = await trx.selectFrom('subscription_periods').select('id').where('provider_invoice_id', '=', input.invoiceId).executeTakeFirst();
        if (paid) return stateOf(row);
        if (input.periodEnd && row.current_period_end && new Date(input.periodEnd).getTime() <= row.current_period_end.getTime()) return stateOf(row);
        const updated = await trx
          .updateTable('subscriptions')
          .set({ status: 'past_due', past_due_since: sql<Date>`now()`, updated_at: sql<Date>`now()` })
          .where('id', '=', row.id)
          .returning(['status', 'cancel_at_period_end', 'current_period_end', 'past_due_since'])
          .executeTakeFirstOrThrow();
        return stateOf(updated);
      });
    },

    /**
     * Grace is over with nothing paid: perks end. A past-due one lapses; an active one only once
     * its paid period is over (its renewal never came).
     */
    lapseSubscription: (input: { subscriptionId: string }) =>
      end(
        input.subscriptionId,
        'lapsed',
        (row) => row.status === 'past_due' || (row.status === 'active' && row.current_period_end !== null && row.current_period_end.getTime() <= Date.now()),
      ),

    /** The period ended with cancel-at-period-end still set: ended (`canceled`); otherwise nothing. */
    endCanceledSubscription: (input: { subscriptionId: string }) =>
      end(input.subscriptionId, 'canceled', (row) => row.cancel_at_period_end && (row.current_period_end === null || row.current_period_end.getTime() <= Date.now())),

    /** The first invoice was never paid within 23 hours. */
    expireIncompleteSubscription: (input: { subscriptionId: string }) => end(input.subscriptionId, 'incomplete_expired', (row) => row.status === 'incomplete'),

    /** Stripe deleted the subscription (its own end, or a cancellation there): `canceled` when the owner had cancelled. */
    endDeletedSubscription: (input: { subscriptionId: string }) =>
      db.transaction().execute(async (trx) => {
        const row = await lockRow(trx, input.subscriptionId);
        return row?.cancel_at_period_end ? 'canceled' : 'provider_deleted';
      }).then((reason) => end(input.subscriptionId, reason, () => true)),

    /** A gift's one period is over. */
    expireGiftSubscription: (input: { subscriptionId: string }) =>
      end(input.subscriptionId, 'gift_expired', (row) => row.current_period_end === null || row.current_period_end.getTime() <= Date.now()),

    /**
     * A gift subscription starts at once: one period row `gift:<id>` (no ledger entry: the gift's
     * payment booked the money; amount = the tier's price) and active until its end.
     */
    async activateGiftSubscription(input: { subscriptionId: string; periodSeconds?: number }): Promise<PaidPeriodResult> {
      return db.transaction().execute(async (trx) => {
        const row = await lockRow(trx, input.subscriptionId);
        if (!row) throw new Error(`no subscription ${input.subscriptionId}`);
        if (row.status !== 'incomplete') return { outcome: 'duplicate', activated: false, ...stateOf(row) };
        const length = input.periodSeconds ? sql`make_interval(secs => ${input.periodSeconds})` : sql`interval '1 month'`;
        const { rows } = await sql<{ start: Date; end: Date }>`select now() as start, now() + ${length} as end`.execute(trx);
        const period = rows[0]!;
        await trx
          .insertInto('subscription_periods')
          .values({
            subscription_id: row.id,
            subscriber_id: row.subscriber_id,
            channel_id: row.channel_id,
            tier: row.tier,
            provider_invoice_id: `gift:${row.id}`,
            amount: row.price,
            currency: deps.money.currency,
            period_start: period.start,
            period_end: period.end,
          })
          .onConflict((oc) => oc.column('provider_invoice_id').doNothing())
          .execute();
        const updated = await trx
          .updateTable('subscriptions')
          .set({ status: 'active', current_period_start: period.start, current_period_end: period.end, updated_at: sql<Date>`now()` })
          .where('id', '=', row.id)
          .returning(['status', 'cancel_at_period_end', 'current_period_end', 'past_due_since'])
          .executeTakeFirstOrThrow();
        return { outcome: 'booked', activated: true, ...stateOf(updated) };
      });
    },

    /** The provider says cancel-at-period-end changed (a change made at Stripe, not through our API). */
    async setSubscriptionCancelAtPeriodEnd(input: { subscriptionId: string; cancelAtPeriodEnd: boolean }): Promise<SubscriptionState> {
      const updated = await db
        .updateTable('subscriptions')
        .set({ cancel_at_period_end: input.cancelAtPeriodEnd, updated_at: sql<Date>`now()` })
        .where('id', '=', input.subscriptionId)
        .where('status', 'in', CURRENT)
        .where('renews', '=', true)
        .where('cancel_at_period_end', '<>', input.cancelAtPeriodEnd)
        .returning(['status', 'cancel_at_period_end', 'current_period_end', 'past_due_since'])
        .executeTakeFirst();
      if (updated) return stateOf(updated);
      const row = await lockRow(db, input.subscriptionId);
      if (!row) throw new Error(`no subscription ${input.subscriptionId}`);
      return stateOf(row);
    },

    /** The room and the creator hear of a new subscription (lib/subscriptions/announce.ts); once per workflow. */
    async announceSubscriptionStarted(input: { subscriptionId: string }): Promise<void> {
      await announceSubscription({ db, nats: deps.nats }, input.subscriptionId);
      const ids = subscriptionEventIds(input.subscriptionId);
      for (const eventId of [ids.received, ids.gifted]) await mailNotificationEvent(activityTemporal(), eventId);
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
