import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import type { GiftDistributionInput } from '../lib/subscriptions/gift-start.ts';
import { giftCandidates, recipientOrder } from '../lib/subscriptions/gifts.ts';
import { startSubscriptionWorkflow } from '../lib/subscriptions/workflow-start.ts';
import { activityTemporal } from './activity-temporal.ts';

// Distribution of a paid gift of subscriptions, for the `subscription-gift/<giftId>` workflow
// (workflows/subscription-gift.ts). One transaction under the gift row's lock chooses the
// recipients, inserts their subscriptions and marks the gift distributed, so a retry after a
// crash either finds it all done or does it all again; the subscriptions' workflows are then
// started by id (`subscription/<id>`), which a retry repeats harmlessly.

export type { GiftDistributionInput };

export interface GiftDistribution {
  status: 'distributed' | 'failed';
  quantity: number;
  /** Subscriptions given (fewer than quantity when too few people were eligible). */
  distributed: number;
  subscriptionIds: string[];
}

export function createSubscriptionGiftActivities(deps: { db: Db }) {
  const { db } = deps;

  /** Chooses and inserts the recipients once; answers the gift's state and its subscriptions. */
  async function distributeOnce(giftId: string) {
    return db.transaction().execute(async (trx) => {
      const gift = await trx.selectFrom('subscription_gifts').selectAll().where('id', '=', giftId).forUpdate().executeTakeFirst();
      if (!gift) throw ApplicationFailure.nonRetryable(`No subscription gift ${giftId}`, 'GiftMissing');
      if (gift.status === 'pending' || gift.status === 'paid') {
        const payment = gift.payment_id
          ? await trx.selectFrom('payments').select(['succeeded_entry_id', 'booking_refused', 'status']).where('id', '=', gift.payment_id).executeTakeFirst()
          : undefined;
        if (!payment?.succeeded_entry_id) {
          if (!payment || payment.booking_refused || payment.status === 'failed') {
            await trx.updateTable('subscription_gifts').set({ status: 'failed', updated_at: sql`now()` }).where('id', '=', giftId).execute();
            return { status: 'failed' as const, quantity: gift.quantity, distributed: 0 };
          }
          // Started by the payment's success before that transaction committed: wait for it (retried).
          throw ApplicationFailure.retryable(`The payment of subscription gift ${giftId} is not booked yet`, 'GiftNotPaid');
        }
        const price = await trx
          .selectFrom('payments')
          .select([sql<string>`amount::text`.as('amount'), 'currency'])
          .where('id', '=', gift.payment_id!)
          .executeTakeFirstOrThrow();
        const candidates = await giftCandidates(trx, { id: gift.id, channelId: gift.channel_id, giverId: gift.giver_id, streamId: gift.stream_id, quantity: gift.quantity });
        // One period at the price the giver paid: the payment's amount is quantity × the tier's price.
        const each = BigInt(price.amount) / BigInt(gift.quantity);
        let given = 0;
        for (const subscriberId of recipientOrder(gift.id, candidates.viewers, candidates.followers)) {
          if (given === gift.quantity) break;
          // A recipient who subscribed meanwhile holds the one current row of the pair: skipped.
          const inserted = await trx
            .insertInto('subscriptions')
            .values({
              id: randomUUID(),
              subscriber_id: subscriberId,
              channel_id: gift.channel_id,
              tier: gift.tier,
              price: each.toString(),
              currency: price.currency,
              renews: false,
              gift_id: gift.id,
            })
            .onConflict((oc) => oc.doNothing())
            .returning('id')
            .executeTakeFirst();
          if (inserted) given++;
        }
        await trx
          .updateTable('subscription_gifts')
          .set({ status: 'distributed', distributed_count: given, updated_at: sql`now()` })
          .where('id', '=', giftId)
          .execute();
        return { status: 'distributed' as const, quantity: gift.quantity, distributed: given, channelId: gift.channel_id };
      }
      if (gift.status === 'failed') return { status: 'failed' as const, quantity: gift.quantity, distributed: 0 };
      return { status: 'distributed' as const, quantity: gift.quantity, distributed: gift.distributed_count ?? 0, channelId: gift.channel_id };
    });
  }

  return {
    /**
     * Gives a paid gift's subscriptions: one `subscriptions` row per recipient (renews=false,
     * gift_id set, status incomplete until its workflow activates it), then starts each one's
     * `subscription/<id>` workflow. Retries until the payment's booking has committed; a gift
     * whose payment failed or was refused is marked failed and gives nothing.
     */
    async distributeSubscriptionGift(input: GiftDistributionInput): Promise<GiftDistribution> {
      const outcome = await distributeOnce(input.giftId);
      if (outcome.status === 'failed') return { ...outcome, subscriptionIds: [] };
      const subscriptions = await db.selectFrom('subscriptions').select('id').where('gift_id', '=', input.giftId).orderBy('created_at').orderBy('id').execute();
      const temporal = activityTemporal();
      for (const { id } of subscriptions) {
        await startSubscriptionWorkflow(
          temporal,
          { subscriptionId: id, graceSeconds: input.graceSeconds, ...(input.giftPeriodSeconds === undefined ? {} : { giftPeriodSeconds: input.giftPeriodSeconds }) },
          outcome.channelId,
        );
        heartbeat();
      }
      if (outcome.distributed < outcome.quantity) {
        Context.current().log.warn('subscription gift distributed to fewer recipients than bought: an operator may refund the rest', {
          giftId: input.giftId,
          quantity: outcome.quantity,
          distributed: outcome.distributed,
        });
      }
      return { status: 'distributed', quantity: outcome.quantity, distributed: outcome.distributed, subscriptionIds: subscriptions.map((s) => s.id) };
    },
  };
}

export type SubscriptionGiftActivities = ReturnType<typeof createSubscriptionGiftActivities>;
