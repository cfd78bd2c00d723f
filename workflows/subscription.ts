import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SubscriptionActivities, SubscriptionState } from '../activities/subscriptions.ts';
import {
  SUBSCRIPTION_SIGNALS,
  type CancellationChangedSignal,
  type InvoiceFailedSignal,
  type InvoicePaidSignal,
  type ProviderChangedSignal,
} from './plans/subscription-signals.ts';
import type { SubscriptionWorkflowInput } from '../lib/subscriptions/workflow-start.ts';
import { searchAttributes } from './search-attributes.ts';

// `subscription/<id>` (type `subscriptionLifecycle`): one channel subscription for its whole
// life, the only writer of its status (README "Subscriptions"). `Phase` is the status, or
// `ending` while cancel-at-period-end is set:
//   incomplete  waiting for the first invoice's payment; ends `incomplete_expired` after 23 h
//   active      a paid period; each paid invoice books the revenue share and continues as new
//   past_due    a renewal failed: perks kept until `graceSeconds` pass, then `lapsed`
//   ended       cancelled at period end, deleted at Stripe, or a gift's month is over
// Stripe's events arrive as signals (activities/subscription-events.ts); each is handled by an
// idempotent activity, so duplicates and any order of delivery end in the same books.

export const invoicePaidSignal = defineSignal<[InvoicePaidSignal]>(SUBSCRIPTION_SIGNALS.invoicePaid);
export const invoiceFailedSignal = defineSignal<[InvoiceFailedSignal]>(SUBSCRIPTION_SIGNALS.invoiceFailed);
export const providerChangedSignal = defineSignal<[ProviderChangedSignal]>(SUBSCRIPTION_SIGNALS.providerChanged);
export const cancellationChangedSignal = defineSignal<[CancellationChangedSignal]>(SUBSCRIPTION_SIGNALS.cancellationChanged);

/** Stripe gives up on an unpaid first invoice after 23 hours (`incomplete_expired`). */
export const INCOMPLETE_EXPIRY_MS = 23 * 3600_000;
/** Continue as new well before the history gets large, even without a paid period. */
const MAX_HISTORY_EVENTS = 2000;

type Pending =
  | { kind: 'paid'; signal: InvoicePaidSignal }
  | { kind: 'failed'; signal: InvoiceFailedSignal }
  | { kind: 'provider'; signal: ProviderChangedSignal }
  | { kind: 'cancellation'; signal: CancellationChangedSignal };

export interface CarriedSubscription {
  state: SubscriptionState;
  createdAt: string;
  gift: boolean;
  announced: boolean;
  /** When the last cancel-at-period-end change we know of was made (ms): an older provider view does not undo it. */
  cancelChangedAt: number;
  runs: number;
  /** Signals received but not handled when the run continued as new. */
  pending: Pending[];
}

export interface SubscriptionLifecycleInput extends SubscriptionWorkflowInput {
  carried?: CarriedSubscription;
}

const activities = proxyActivities<SubscriptionActivities>({
  // One short transaction each: a worker that dies mid-activity is retried this soon.
  startToCloseTimeout: '15 seconds',
  // Money and status must land eventually: retry until they do.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const CURRENT: readonly string[] = ['incomplete', 'active', 'past_due'];
const now = () => new Date().getTime();
const ms = (iso: string | null) => (iso === null ? null : new Date(iso).getTime());

export async function subscriptionLifecycle(input: SubscriptionLifecycleInput): Promise<{ status: string }> {
  const subscriptionId = input.subscriptionId;
  const queue: Pending[] = [...(input.carried?.pending ?? [])];
  setHandler(invoicePaidSignal, (signal) => void queue.push({ kind: 'paid', signal }));
  setHandler(invoiceFailedSignal, (signal) => void queue.push({ kind: 'failed', signal }));
  setHandler(providerChangedSignal, (signal) => void queue.push({ kind: 'provider', signal }));
  setHandler(cancellationChangedSignal, (signal) => void queue.push({ kind: 'cancellation', signal }));

  let carried: CarriedSubscription;
  if (input.carried) carried = { ...input.carried, pending: [] };
  else {
    const loaded = await activities.loadSubscription(subscriptionId);
    carried = {
      state: { status: loaded.status, cancelAtPeriodEnd: loaded.cancelAtPeriodEnd, periodEnd: loaded.periodEnd, pastDueSince: loaded.pastDueSince },
      createdAt: loaded.createdAt,
      gift: input.giftPeriodSeconds !== undefined || loaded.giftId !== null,
      announced: loaded.status !== 'incomplete',
      cancelChangedAt: 0,
      runs: 1,
      pending: [],
    };
  }
  let phase = '';
  const update = (state: SubscriptionState) => {
    carried.state = state;
    const next = state.cancelAtPeriodEnd && (state.status === 'active' || state.status === 'past_due') ? 'ending' : state.status;
    if (next !== phase) upsertSearchAttributes([{ key: searchAttributes.Phase, value: next }]);
    phase = next;
  };
  update(carried.state);
  const announce = async () => {
    if (carried.announced) return;
    await activities.announceSubscriptionStarted({ subscriptionId });
    carried.announced = true;
  };
  const finished = () => !CURRENT.includes(carried.state.status);

  if (carried.gift) {
    // A gift: active at once for its one period (its payment booked the money), then over.
    if (carried.state.status === 'incomplete') {
      update(await activities.activateGiftSubscription({ subscriptionId, ...(input.giftPeriodSeconds !== undefined ? { periodSeconds: input.giftPeriodSeconds } : {}) }));
      await announce();
    }
    for (let wait = 1; !finished(); wait = 1000) {
      await condition(() => false, Math.max(ms(carried.state.periodEnd)! - now(), wait));
      update(await activities.expireGiftSubscription({ subscriptionId }));
    }
    return { status: carried.state.status };
  }

  const deadline = (): number => {
    const { state } = carried;
    if (state.status === 'incomplete') return new Date(carried.createdAt).getTime() + INCOMPLETE_EXPIRY_MS;
    if (state.status === 'past_due') return ms(state.pastDueSince)! + input.graceSeconds * 1000;
    // Active: cancelled ones end at the period's end; otherwise a renewal that never comes lapses after the grace period.
    return ms(state.periodEnd)! + (state.cancelAtPeriodEnd ? 0 : input.graceSeconds * 1000);
  };

  const handle = async (event: Pending): Promise<boolean> => {
    switch (event.kind) {
      case 'paid': {
        const result = await activities.recordPaidPeriodAndShare({ subscriptionId, ...event.signal });
        update(result);
        if (result.activated) await announce();
        return result.outcome === 'booked';
      }
      case 'failed':
        if (carried.state.status === 'active') update(await activities.markSubscriptionPastDue({ subscriptionId, invoiceId: event.signal.invoiceId, periodEnd: event.signal.periodEnd }));
        return false;
      case 'cancellation':
        carried.cancelChangedAt = Math.max(carried.cancelChangedAt, event.signal.at);
        update({ ...carried.state, cancelAtPeriodEnd: event.signal.cancelAtPeriodEnd });
        return false;
      case 'provider': {
        const { signal } = event;
        if (signal.deleted || signal.status === 'canceled') update(await activities.endDeletedSubscription({ subscriptionId }));
        else if (signal.status === 'incomplete_expired') update(await activities.expireIncompleteSubscription({ subscriptionId }));
        else if (signal.eventCreatedAt > carried.cancelChangedAt && signal.cancelAtPeriodEnd !== carried.state.cancelAtPeriodEnd) {
          carried.cancelChangedAt = signal.eventCreatedAt;
          update(await activities.setSubscriptionCancelAtPeriodEnd({ subscriptionId, cancelAtPeriodEnd: signal.cancelAtPeriodEnd }));
        }
        return false;
      }
    }
  };

  // A timer whose activity changed nothing (a clock a little behind the database's) waits a
  // second before it tries again, rather than spinning.
  let idle = false;
  while (!finished()) {
    const due = deadline();
    const woke = await condition(() => queue.length > 0, Math.max(due - now(), idle ? 1000 : 1));
    idle = false;
    if (woke) {
      const booked = await handle(queue.shift()!);
      if (!finished() && (booked || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= MAX_HISTORY_EVENTS)) {
        return continueAsNew<typeof subscriptionLifecycle>({ ...input, carried: { ...carried, runs: carried.runs + 1, pending: queue.splice(0) } });
      }
      continue;
    }
    const { status } = carried.state;
    const before = JSON.stringify(carried.state);
    if (status === 'incomplete') update(await activities.expireIncompleteSubscription({ subscriptionId }));
    else if (status === 'past_due') update(await activities.lapseSubscription({ subscriptionId }));
    else {
      // The period is over: a cancellation ends it (the database has the last word on the flag,
      // should a signal have been lost); with none, a renewal that never came lapses it.
      update(await activities.endCanceledSubscription({ subscriptionId }));
      if (!finished() && !carried.state.cancelAtPeriodEnd && now() >= deadline()) update(await activities.lapseSubscription({ subscriptionId }));
    }
    idle = JSON.stringify(carried.state) === before;
  }
  return { status: carried.state.status };
}
