import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import { AppError } from '../lib/errors.ts';
import { formatMinorUnits } from '../lib/payouts/money-format.ts';
import { compactId, pain001Totals, renderPain001 } from '../lib/payouts/pain001.ts';
import type { PayoutServices } from '../lib/payouts/services.ts';
import {
  flagRefusedReversal,
  flagUnsettled,
  listItems,
  flagUnreversedTransfer,
  markSubmitted,
  recordTransfer,
  openRun,
  releaseItems,
  reserveBatch,
  RunAlreadyOpenError,
  runTotals,
  setRunStatus,
  settleItem,
  type PayoutItem,
  type ReserveBatchResult,
  type RunTotals,
} from '../lib/payouts/store.ts';
import type { Nats } from '../lib/nats.ts';
import { pushNotifications } from '../lib/notifications.ts';
import { writeObjectText, type Storage } from '../lib/s3.ts';
import type { PayoutRunStatus } from '../lib/schema.ts';
import { PaymentProviderError, stripeIdempotencyKey } from '../lib/stripe.ts';

// Side effects of the payout run workflow (workflows/payout-run.ts). Each activity may run
// again after a crash or a lost answer: reservations and settlements are keyed in the ledger,
// status changes are guarded by the current status, and every Stripe call carries the same
// idempotency key on every attempt, so a retry never pays twice.

export interface PayoutDeps extends PayoutServices {
  db: Db;
  storage: Storage;
  nats: Nats;
}

export interface RunSettings {
  minimumAmount: string;
  approvalDeadlineHours: number;
  settlementDeadlineDays: number;
  parallelism: number;
}

const PAGE = 500;

/** reservePayoutBatches' heartbeat: where a retry goes on from. */
interface ReserveProgress {
  afterUserId: string | null;
  reserved: number;
  amount: string;
  batches: number;
}

export const bankFilePath = (runId: string) => `payouts/${runId}/pain001.xml`;
export const reportPath = (runId: string) => `payouts/${runId}/reconciliation.csv`;

/** The Stripe idempotency key of one step of one creator's payout in one run (`streamhub/payout/<runId>/<creatorId>/<step>`). */
export const stripePayoutKey = (item: Pick<PayoutItem, 'runId' | 'userId'>, step: 'transfer' | 'payout' | 'reversal') =>
  stripeIdempotencyKey('payout', `${item.runId}/${item.userId}`, step);

/** Runs `work` over `items` with at most `limit` at once; the first failure is rethrown after all have finished. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        errors.push(err);
      }
    }
  });
  await Promise.all(lanes);
  if (errors.length) throw errors[0];
}

export function createPayoutActivities(deps: PayoutDeps) {
  const { db, connect } = deps;
  const metadataOf = (item: PayoutItem) => ({ payoutId: item.id, runId: item.runId, creatorId: item.userId });

  /** Fails an item that was never sent (or whose money came back): the creator gets it back, with the reason. */
  async function failItem(item: PayoutItem, reason: string, from: PayoutItem['status'][]): Promise<void> {
    const { notification } = await db.transaction().execute((tx) => settleItem(tx, { itemId: item.id, outcome: 'failed', reason, settledBy: 'payout-run', from }));
    // After the commit, at most once: a retry finds the item failed and pushes nothing.
    if (notification) await pushNotifications(deps.nats, [notification]).catch(() => {});
  }

  async function payStripeItem(item: PayoutItem): Promise<'submitted' | 'failed'> {
    if (!item.stripeAccountId) {
      await failItem(item, 'No Stripe account on the payout method', ['reserved']);
      return 'failed';
    }
    let transferId = item.stripeTransferId ?? undefined;
    try {
      if (!transferId) {
        const transfer = await connect.createTransfer({
          amount: item.amount,
          currency: item.currency,
          destination: item.stripeAccountId,
          transferGroup: `payout-run-${item.runId}`,
          idempotencyKey: stripePayoutKey(item, 'transfer'),
          metadata: metadataOf(item),
        });
        transferId = transfer.id;
        await recordTransfer(db, item.id, transferId);
      }
      const payout = await connect.createPayout({
        account: item.stripeAccountId,
        amount: item.amount,
        currency: item.currency,
        idempotencyKey: stripePayoutKey(item, 'payout'),
        metadata: metadataOf(item),
      });
      await markSubmitted(db, item.id, { stripeTransferId: transferId, stripePayoutId: payout.id });
      return 'submitted';
    } catch (err) {
      // Retryable failures (timeouts, 5xx, rate limits) go back to Temporal: the next attempt sends the same keys.
      if (!(err instanceof PaymentProviderError) || err.retryable) throw err;
      const refusal = `Stripe refused the payout (${err.kind}${err.providerCode ? `: ${err.providerCode}` : ''})`;
      if (transferId) {
        try {
          await reverse(item, transferId);
        } catch (reversalError) {
          if (!(reversalError instanceof PaymentProviderError) || reversalError.retryable) throw reversalError;
          // Refused for good: the money stays with the creator's Stripe account, for finance to settle.
          await flagUnreversedTransfer(db, item.id, `${refusal}, and the reversal of its transfer (${reversalError.kind})`);
          return 'failed';
        }
      }
      await failItem(item, refusal, ['reserved']);
      return 'failed';
    }
  }

  async function reverse(item: PayoutItem, transferId: string): Promise<void> {
    await connect.reverseTransfer({ transferId, amount: item.amount, idempotencyKey: stripePayoutKey(item, 'reversal'), metadata: metadataOf(item) });
  }

  return {
    /** Creates the run's row and resolves its settings (input or config), refusing a second open run per currency. */
    async openPayoutRun(input: { runId: string; currency: string; startedBy: string; minimumAmount?: string }): Promise<RunSettings> {
      const minimumAmount = input.minimumAmount ?? String(deps.config.minimumAmount);
      try {
        await openRun(db, { runId: input.runId, currency: input.currency, minimumAmount: BigInt(minimumAmount), startedBy: input.startedBy });
      } catch (err) {
        if (err instanceof RunAlreadyOpenError) throw ApplicationFailure.nonRetryable(err.message, 'PayoutRunAlreadyOpen');
        if (err instanceof AppError && err.code === 'forbidden') throw ApplicationFailure.nonRetryable(err.message, 'Forbidden');
        throw err;
      }
      return {
        minimumAmount,
        approvalDeadlineHours: deps.config.approvalDeadlineHours,
        settlementDeadlineDays: deps.config.settlementDeadlineDays,
        parallelism: deps.config.parallelism,
      };
    },

    /** One batch per call: what runs started before reservePayoutBatches still call (workflow replay). */
    async reservePayoutBatch(input: { runId: string; currency: string; minimumAmount: string; afterUserId: string | null; limit: number }): Promise<ReserveBatchResult> {
      return reserveBatch(db, { ...input, minimumAmount: BigInt(input.minimumAmount) });
    },

    /**
     * Up to `maxBatches` keyset batches of `limit` creators, each in its own transaction, in one
     * activity: a round trip through Temporal per batch cost more than the batch itself. The
     * cursor and sums are heartbeated after every batch, so a retry (a worker killed halfway)
     * goes on from the last one Temporal heard of; a batch done again reserves nothing twice.
     * When the selection is done, `runTotal` is the run's reservations as the database holds
     * them, which stays exact even when an attempt's answer was lost after its commits.
     */
    async reservePayoutBatches(input: {
      runId: string;
      currency: string;
      minimumAmount: string;
      afterUserId: string | null;
      limit: number;
      maxBatches: number;
    }): Promise<ReserveBatchResult & { batches: number; runTotal?: { count: number; amount: string } }> {
      const resumed = activityInfo().heartbeatDetails as ReserveProgress | undefined;
      const progress: ReserveProgress = resumed ?? { afterUserId: input.afterUserId, reserved: 0, amount: '0', batches: 0 };
      while (progress.batches < input.maxBatches) {
        const batch = await reserveBatch(db, { ...input, afterUserId: progress.afterUserId, minimumAmount: BigInt(input.minimumAmount) });
        progress.afterUserId = batch.lastUserId;
        progress.reserved += batch.reserved;
        progress.amount = (BigInt(progress.amount) + BigInt(batch.amount)).toString();
        progress.batches++;
        heartbeat({ ...progress });
        if (batch.done) {
          const { rows } = await sql<{ count: string; amount: string }>`
            select count(*)::text as count, coalesce(sum(amount), 0)::text as amount from payout_items where run_id = ${input.runId}`.execute(db);
          return { lastUserId: progress.afterUserId, reserved: progress.reserved, amount: progress.amount, batches: progress.batches, done: true, runTotal: { count: Number(rows[0]!.count), amount: rows[0]!.amount } };
        }
      }
      return { lastUserId: progress.afterUserId, reserved: progress.reserved, amount: progress.amount, batches: progress.batches, done: false };
    },

    async setPayoutRunStatus(input: { runId: string; status: PayoutRunStatus; approvalDeadline?: string; cancelledBy?: string }): Promise<void> {
      await setRunStatus(db, input.runId, input.status, {
        approvalDeadline: input.approvalDeadline ? new Date(input.approvalDeadline) : undefined,
        cancelledBy: input.cancelledBy,
      });
    },

    /** The four-eyes check against the database: an active finance user or admin other than the starter. */
    async recordPayoutApproval(input: { runId: string; approverId: string }): Promise<{ approvedAt: string }> {
      const run = await db.selectFrom('payout_runs').select(['started_by', 'status', 'approved_by', 'approved_at']).where('id', '=', input.runId).executeTakeFirstOrThrow();
      if (run.approved_by === input.approverId && run.approved_at) return { approvedAt: run.approved_at.toISOString() };
      const approver = await db.selectFrom('users').select(['role', 'status']).where('id', '=', input.approverId).where('deleted_at', 'is', null).executeTakeFirst();
      if (!approver || approver.status !== 'active' || (approver.role !== 'finance' && approver.role !== 'admin')) {
        throw ApplicationFailure.nonRetryable('Only an active finance user or admin may approve a payout run', 'Forbidden');
      }
      if (run.started_by === input.approverId) throw ApplicationFailure.nonRetryable('The user who started a payout run cannot approve it', 'SelfApproval');
      const approved = await db
        .updateTable('payout_runs')
        .set({ approved_by: input.approverId, approved_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
        .where('id', '=', input.runId)
        .where('status', '=', 'awaiting_approval')
        .where('approved_by', 'is', null)
        .returning('approved_at')
        .executeTakeFirst();
      if (!approved?.approved_at) throw ApplicationFailure.nonRetryable('The run is not awaiting approval', 'WrongPhase');
      return { approvedAt: approved.approved_at.toISOString() };
    },

    /** Releases reserved items: the given creators' (an approver's exclusions) or all of them (expiry, cancel). */
    async releasePayoutItems(input: { runId: string; userIds?: string[] }): Promise<number> {
      let released = 0;
      let afterId: string | null = null;
      for (;;) {
        const page: PayoutItem[] = await listItems(db, { runId: input.runId, afterId, limit: PAGE, statuses: ['reserved'], userIds: input.userIds });
        if (!page.length) return released;
        released += await releaseItems(db, page.map((i) => i.id));
        afterId = page.at(-1)!.id;
        heartbeat({ released });
      }
    },

    /**
     * Sends the next page of reserved Stripe items: a transfer to the creator's connected
     * account and a payout from it, `parallelism` at a time. A permanent refusal fails only that
     * item (its money returns to the creator); a transient one fails the activity after the
     * others finished, and the retry resumes with the same idempotency keys.
     */
    async payStripeItems(input: { runId: string; limit: number; parallelism: number }): Promise<{ submitted: number; failed: number; done: boolean }> {
      const page = await listItems(db, { runId: input.runId, limit: input.limit, statuses: ['reserved'], method: 'stripe' });
      let submitted = 0;
      let failed = 0;
      // Beat while Stripe answers slowly too: an attempt whose heartbeat lapsed is retried while
      // it still runs, and two attempts would race on the same items.
      const beat = setInterval(() => heartbeat({ submitted, failed }), 5_000);
      try {
        await inParallel(page, input.parallelism, async (item) => {
          if ((await payStripeItem(item)) === 'submitted') submitted++;
          else failed++;
          heartbeat({ submitted, failed });
        });
      } finally {
        clearInterval(beat);
      }
      return { submitted, failed, done: page.length < input.limit };
    },

    /**
     * Renders the run's bank-transfer items as one pain.001 file in S3 and marks them submitted.
     * The file depends only on the items and the approval time, so a retry writes the same bytes.
     */
    async writePayoutBankFile(input: { runId: string }): Promise<{ key: string; count: number; controlSum: string } | null> {
      const run = await db.selectFrom('payout_runs').select(['currency', 'approved_at']).where('id', '=', input.runId).executeTakeFirstOrThrow();
      const items: PayoutItem[] = [];
      for (let afterId: string | null = null; ; ) {
        const page: PayoutItem[] = await listItems(db, { runId: input.runId, afterId, limit: 2000, method: 'bank_transfer', statuses: ['reserved', 'submitted', 'paid', 'failed'] });
        items.push(...page);
        heartbeat();
        if (page.length < 2000) break;
        afterId = page.at(-1)!.id;
      }
      if (!items.length) return null;
      const transfers = items.map((item) => ({
        payoutId: item.id,
        amount: item.amount,
        creditorName: item.accountHolder ?? '',
        creditorIban: deps.box.open(item.ibanSealed!),
        remittance: `StreamHub payout ${compactId(item.runId).slice(0, 8)} ${formatMinorUnits(item.amount, item.currency)} ${item.currency}`,
      }));
      const createdAt = run.approved_at ?? new Date(0);
      const xml = renderPain001({
        runId: input.runId,
        currency: run.currency,
        createdAt,
        executionDate: createdAt.toISOString().slice(0, 10),
        debtor: deps.config.debtor,
        transfers,
      });
      const key = bankFilePath(input.runId);
      await writeObjectText(deps.storage, key, xml, 'application/xml');
      heartbeat();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('payout_items')
          .set({ status: 'submitted', submitted_at: sql<Date>`now()` })
          .where('run_id', '=', input.runId)
          .where('method', '=', 'bank_transfer')
          .where('status', '=', 'reserved')
          .execute();
        await tx.updateTable('payout_runs').set({ bank_file_key: key, updated_at: sql<Date>`now()` }).where('id', '=', input.runId).execute();
      });
      const totals = pain001Totals(transfers);
      return { key, count: totals.count, controlSum: totals.controlSum.toString() };
    },

    /** How many items still wait for their outcome, and how many failed Stripe payouts wait for their transfer to come back (a refused reversal waits for finance instead). */
    async payoutSettlementStatus(input: { runId: string }): Promise<{ open: number; reversing: number }> {
      const { rows } = await sql<{ open: string; reversing: string }>`
        select count(*) filter (where status in ('submitted', 'reversing'))::text as open,
               count(*) filter (where status = 'reversing' and flagged_at is null)::text as reversing
        from payout_items where run_id = ${input.runId}`.execute(db);
      return { open: Number(rows[0]!.open), reversing: Number(rows[0]!.reversing) };
    },

    /**
     * Failed Stripe payouts: reverse the transfer (its own idempotency key), then return the
     * money to the creator. A reversal Stripe refuses for good is flagged for finance and the
     * others go on; a transient failure fails the activity, and the retry resumes.
     */
    async reverseFailedStripePayouts(input: { runId: string }): Promise<number> {
      const items = await listItems(db, { runId: input.runId, limit: PAGE, statuses: ['reversing'], method: 'stripe', flagged: false });
      for (const item of items) {
        try {
          if (item.stripeTransferId) await reverse(item, item.stripeTransferId);
        } catch (err) {
          if (!(err instanceof PaymentProviderError) || err.retryable) throw err;
          await flagRefusedReversal(db, item.id, `${item.failureReason ?? 'The payout failed'}; Stripe refused to reverse the transfer (${err.kind}${err.providerCode ? `: ${err.providerCode}` : ''})`);
          continue;
        }
        await failItem(item, item.failureReason ?? 'The payout failed', ['reversing']);
        heartbeat();
      }
      return items.length;
    },

    async flagUnsettledPayouts(input: { runId: string }): Promise<number> {
      return flagUnsettled(db, input.runId);
    },

    async payoutRunTotals(input: { runId: string }): Promise<RunTotals> {
      return runTotals(db, input.runId);
    },

    /** The reconciliation CSV (each item with its ledger entries and provider references) in S3. */
    async writePayoutReport(input: { runId: string }): Promise<{ key: string; totals: RunTotals }> {
      const { rows } = await sql<Record<string, string | null>>`
        select i.id, i.user_id, i.currency, i.amount::text as amount, i.method, i.status, i.failure_reason,
               r.idempotency_key as reserve_key, s.idempotency_key as settle_key, s.kind as settle_kind,
               i.stripe_transfer_id, i.stripe_payout_id, i.settled_by, i.flagged_at::text as flagged_at
        from payout_items i
        join ledger_entries r on r.id = i.reserve_entry_id
        left join ledger_entries s on s.id = i.settle_entry_id
        where i.run_id = ${input.runId}
        order by i.id`.execute(db);
      const columns = ['id', 'user_id', 'currency', 'amount', 'method', 'status', 'failure_reason', 'reserve_key', 'settle_key', 'settle_kind', 'stripe_transfer_id', 'stripe_payout_id', 'settled_by', 'flagged_at'];
      const cell = (v: string | null | undefined) => (v == null ? '' : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
      const lines = [
        [...columns, 'end_to_end_id'].join(','),
        ...rows.map((r) => [...columns.map((c) => cell(r[c])), r.method === 'bank_transfer' ? compactId(r.id!) : ''].join(',')),
      ];
      const key = reportPath(input.runId);
      await writeObjectText(deps.storage, key, `${lines.join('\n')}\n`, 'text/csv');
      await db.updateTable('payout_runs').set({ report_key: key, updated_at: sql<Date>`now()` }).where('id', '=', input.runId).execute();
      return { key, totals: await runTotals(db, input.runId) };
    },
  };
}

export type PayoutActivities = ReturnType<typeof createPayoutActivities>;
