import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PayoutActivities, RunSettings } from '../activities/payouts.ts';
import type { ReserveBatchResult, RunTotals } from '../lib/payouts/store.ts';
import { searchAttributes } from './search-attributes.ts';

// `payout-run/<runId>`: finance starts it, a second finance user approves it, money goes out,
// the banks' answers come back. What each phase means (the `Phase` search attribute):
//   selecting          reserving every eligible creator's available balance, batch by batch
//   awaiting_approval  waiting for the `approve` update of a finance user other than the starter
//   executing          Stripe transfers + payouts sent, the pain.001 bank file written
//   settling           waiting for payout.paid/failed webhooks and the bank's status report
//   settling_overdue   past the settlement deadline: open items are flagged for finance
//   completed | expired | cancelled    done; every reservation ended paid, failed or released

export type PayoutRunPhase =
  | 'opening'
  | 'selecting'
  | 'awaiting_approval'
  | 'executing'
  | 'settling'
  | 'settling_overdue'
  | 'reporting'
  | 'completed'
  | 'expired'
  | 'cancelled';

export interface PayoutRunInput {
  /** The run's id (a uuid); unset, it is read from the workflow id `payout-run/<runId>` (a start from the Temporal UI). */
  runId?: string;
  currency: string;
  /** Who started it: an active finance user or admin (checked against the database). */
  startedBy: string;
  /** Minor units; unset takes PAYOUT_MINIMUM_MINOR. */
  minimumAmount?: string;
  /** Overrides of the configured durations (tests shorten them). */
  approvalDeadlineMs?: number;
  settlementDeadlineMs?: number;
  /** How often settlement is re-checked without a webhook's nudge. */
  settlementPollMs?: number;
  /** Creators per reservation transaction. */
  batchSize?: number;
  /** Reservation batches per activity (each its own transaction): fewer round trips through Temporal. */
  batchesPerActivity?: number;
  /** Continue as new past this many events (Temporal suggests it anyway near its own limits). */
  maxHistoryEvents?: number;
  /** Carried over continue-as-new. */
  carried?: PayoutRunState;
}

export interface PayoutRunState {
  runId: string;
  phase: PayoutRunPhase;
  settings: RunSettings | null;
  afterUserId: string | null;
  reserved: { count: number; amount: string };
  approval: { by: string; excluded: number; approvedAt: string } | null;
  pendingExclusions: string[];
  cancelledBy: string | null;
  approvalDeadline: string | null;
  settlementDeadline: string | null;
  bankFile: { key: string; count: number; controlSum: string } | null;
  stripe: { submitted: number; failed: number };
  unsettled: number;
  flagged: number;
  released: number;
  totals: RunTotals | null;
  reportKey: string | null;
  runs: number;
}

export interface ApproveInput {
  approverId: string;
  approverRole: string;
  /** Creators left out of this run: their reservations are released. */
  exclude?: string[];
}

export const payoutRunProgressQuery = defineQuery<PayoutRunState>('progress');
export const approvePayoutRunUpdate = defineUpdate<{ approvedBy: string; excluded: number }, [ApproveInput]>('approve');
export const cancelPayoutRunUpdate = defineUpdate<{ cancelledBy: string }, [{ by: string; role: string }]>('cancel');
/** A nudge after an item settled (webhook, upload, finance); carries nothing, the database is the truth. */
export const settlementChangedSignal = defineSignal('settlementChanged');

const FINANCE_ROLES = ['finance', 'admin'];
const MAX_EXCLUSIONS = 1000;
/** 20 × 500 creators: about two seconds of reserving per activity, a heartbeat after each batch. */
const DEFAULT_BATCHES_PER_ACTIVITY = 20;
const HOUR = 60 * 60 * 1000;
// The workflow clock (deterministic in workflow code).
const now = () => new Date().getTime();

const activities = proxyActivities<PayoutActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['PayoutRunAlreadyOpen', 'Forbidden', 'SelfApproval', 'WrongPhase'] },
});

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

function runIdOf(workflowId: string): string {
  const match = /^payout-run\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(workflowId);
  if (!match) throw refuse('InvalidWorkflowId', `A payout run's workflow id is payout-run/<uuid>, not ${workflowId}`);
  return match[1]!;
}

export async function payoutRunWorkflow(input: PayoutRunInput): Promise<PayoutRunState> {
  const state: PayoutRunState = input.carried ?? {
    runId: input.runId ?? runIdOf(workflowInfo().workflowId),
    phase: 'opening',
    settings: null,
    afterUserId: null,
    reserved: { count: 0, amount: '0' },
    approval: null,
    pendingExclusions: [],
    cancelledBy: null,
    approvalDeadline: null,
    settlementDeadline: null,
    bankFile: null,
    stripe: { submitted: 0, failed: 0 },
    unsettled: 0,
    flagged: 0,
    released: 0,
    totals: null,
    reportKey: null,
    runs: 1,
  };
  const { runId } = state;
  const batchSize = input.batchSize ?? 500;
  let approving = false;
  let nudges = 0;

  setHandler(payoutRunProgressQuery, () => state);
  setHandler(settlementChangedSignal, () => void nudges++);
  setHandler(
    approvePayoutRunUpdate,
    async ({ approverId, exclude }) => {
      approving = true;
      try {
        const { approvedAt } = await activities.recordPayoutApproval({ runId, approverId });
        state.pendingExclusions = [...new Set(exclude ?? [])];
        state.approval = { by: approverId, excluded: state.pendingExclusions.length, approvedAt };
        return { approvedBy: approverId, excluded: state.pendingExclusions.length };
      } finally {
        approving = false;
      }
    },
    {
      // Refused here, before anything reaches the history (the activity checks the database again).
      validator: ({ approverId, approverRole, exclude }) => {
        if (!FINANCE_ROLES.includes(approverRole)) throw refuse('Forbidden', 'Only finance users and admins may approve a payout run');
        if (approverId === input.startedBy) throw refuse('SelfApproval', 'The user who started a payout run cannot approve it');
        if (state.phase !== 'awaiting_approval' || state.approval || approving || state.cancelledBy) throw refuse('WrongPhase', `The run is ${state.phase}, not awaiting approval`);
        if ((exclude?.length ?? 0) > MAX_EXCLUSIONS) throw refuse('TooManyExclusions', `At most ${MAX_EXCLUSIONS} creators can be excluded`);
      },
    },
  );
  setHandler(
    cancelPayoutRunUpdate,
    ({ by }) => {
      state.cancelledBy = by;
      return { cancelledBy: by };
    },
    {
      validator: ({ role }) => {
        if (!FINANCE_ROLES.includes(role)) throw refuse('Forbidden', 'Only finance users and admins may cancel a payout run');
        if (!['opening', 'selecting', 'awaiting_approval'].includes(state.phase) || state.approval || approving) {
          throw refuse('WrongPhase', `The run is ${state.phase}: only a run not yet approved can be cancelled`);
        }
      },
    },
  );

  const enter = async (phase: PayoutRunPhase, status?: Parameters<PayoutActivities['setPayoutRunStatus']>[0]) => {
    // The table first: whoever sees the new phase in the query finds the row there too.
    if (status) await activities.setPayoutRunStatus(status);
    state.phase = phase;
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: phase }]);
  };
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistoryEvents ?? 2000);
  const carryOn = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof payoutRunWorkflow>({ ...input, carried: { ...state, runs: state.runs + 1 } });
  };
  const finish = async (phase: 'completed' | 'expired' | 'cancelled'): Promise<PayoutRunState> => {
    if (phase !== 'completed') state.released += await activities.releasePayoutItems({ runId });
    await enter('reporting');
    const report = await activities.writePayoutReport({ runId });
    state.reportKey = report.key;
    state.totals = report.totals;
    await enter(phase, { runId, status: phase, cancelledBy: state.cancelledBy ?? undefined });
    await condition(allHandlersFinished);
    return state;
  };

  if (state.phase === 'opening') {
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'opening' }]);
    state.settings = await activities.openPayoutRun({ runId, currency: input.currency, startedBy: input.startedBy, minimumAmount: input.minimumAmount });
    await enter('selecting');
  }
  const settings = state.settings!;

  // Select and reserve: keyset batches, each its own transaction, several per activity.
  while (state.phase === 'selecting') {
    if (state.cancelledBy) return finish('cancelled');
    const reserve = { runId, currency: input.currency, minimumAmount: settings.minimumAmount, afterUserId: state.afterUserId, limit: batchSize };
    // Runs started before batches were grouped replay their one-batch activities.
    const batch: ReserveBatchResult & { runTotal?: { count: number; amount: string } } = patched('payout-run-reserve-batches')
      ? await activities.reservePayoutBatches({ ...reserve, maxBatches: input.batchesPerActivity ?? DEFAULT_BATCHES_PER_ACTIVITY })
      : await activities.reservePayoutBatch(reserve);
    state.afterUserId = batch.lastUserId;
    state.reserved = { count: state.reserved.count + batch.reserved, amount: (BigInt(state.reserved.amount) + BigInt(batch.amount)).toString() };
    // The database's count wins: an attempt whose answer was lost after its commits is in it.
    if (batch.runTotal) state.reserved = batch.runTotal;
    if (batch.done) {
      const deadline = now() + (input.approvalDeadlineMs ?? settings.approvalDeadlineHours * HOUR);
      state.approvalDeadline = new Date(deadline).toISOString();
      await enter('awaiting_approval', { runId, status: 'awaiting_approval', approvalDeadline: state.approvalDeadline });
    } else if (historyFull()) await carryOn();
  }

  // Four eyes, or the deadline.
  if (state.phase === 'awaiting_approval') {
    if (state.reserved.count === 0 && !state.cancelledBy) return finish('completed');
    const remaining = Math.max(Date.parse(state.approvalDeadline!) - now(), 1);
    await condition(() => (state.approval !== null || state.cancelledBy !== null) && !approving, remaining);
    await condition(() => !approving);
    if (state.cancelledBy) return finish('cancelled');
    if (!state.approval) return finish('expired');
    if (state.pendingExclusions.length) state.released += await activities.releasePayoutItems({ runId, userIds: state.pendingExclusions });
    state.pendingExclusions = [];
    await enter('executing', { runId, status: 'executing' });
  }

  // Execute: the bank file once, then Stripe payouts page by page.
  if (state.phase === 'executing') {
    if (!state.bankFile) state.bankFile = (await activities.writePayoutBankFile({ runId })) ?? { key: '', count: 0, controlSum: '0' };
    for (;;) {
      const page = await activities.payStripeItems({ runId, limit: batchSize, parallelism: settings.parallelism });
      state.stripe = { submitted: state.stripe.submitted + page.submitted, failed: state.stripe.failed + page.failed };
      if (page.done) break;
      if (historyFull()) await carryOn();
    }
    state.settlementDeadline = new Date(now() + (input.settlementDeadlineMs ?? settings.settlementDeadlineDays * 24 * HOUR)).toISOString();
    await enter('settling', { runId, status: 'settling' });
  }

  // Settle: webhooks and uploads settle items in the database and nudge; a slow poll catches a lost nudge.
  while (state.phase === 'settling' || state.phase === 'settling_overdue') {
    const nudgesBeforeRead = nudges;
    const status = await activities.payoutSettlementStatus({ runId });
    state.unsettled = status.open;
    if (status.reversing) {
      await activities.reverseFailedStripePayouts({ runId });
      continue;
    }
    if (status.open === 0) break;
    const deadline = Date.parse(state.settlementDeadline!);
    if (state.phase === 'settling' && now() >= deadline) {
      state.flagged += await activities.flagUnsettledPayouts({ runId });
      await enter('settling_overdue');
    }
    // A nudge that came while the status was being read may be for a settlement the read missed:
    // count from before the read, so it wakes the next read at once. Runs started before this
    // counted from after the read and woke only on the next nudge or the poll.
    const seen = patched('payout-run-nudge-during-read') ? nudgesBeforeRead : nudges;
    const wait = state.phase === 'settling' ? Math.min(input.settlementPollMs ?? HOUR, Math.max(deadline - now(), 1)) : (input.settlementPollMs ?? HOUR);
    await condition(() => nudges !== seen, wait);
    if (historyFull()) await carryOn();
  }

  return finish('completed');
}
