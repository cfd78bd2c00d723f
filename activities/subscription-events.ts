import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../lib/logger.ts';
import type { KnownStripeEventType } from '../lib/payments/stripe-events.ts';
import {
  invoicePeriod,
  invoiceSubscriptionIds,
  MalformedStripeObjectError,
  readInvoice,
  readSubscription,
  subscriptionMetadataId,
} from '../lib/payments/stripe-objects.ts';
import type { SubscriptionStatus } from '../lib/schema.ts';
import { CURRENT_STATUSES } from '../lib/subscriptions/rules.ts';
import { SUBSCRIPTION_SIGNALS, type InvoiceFailedSignal, type InvoicePaidSignal, type ProviderChangedSignal } from '../workflows/plans/subscription-signals.ts';
import { workflowIds } from '../workflows/ids.ts';
import { searchAttributes } from '../workflows/search-attributes.ts';
import { registerStripeEventHandler, type PaymentEvent, type PaymentEventContext, type PaymentEventHandler } from './payments.ts';

// Stripe Billing's events for channel subscriptions: each finds our subscription (by the id we
// put in the Stripe subscription's metadata, else by Stripe's subscription id) and signals its
// `subscription/<id>` workflow with a compact payload. The signal is sent inside the event's
// transaction, before `applied_at` commits: an attempt that dies after signalling is retried and
// signals again, which the workflow's idempotent activities absorb (a period is unique by
// invoice id). A subscription that is over gets nothing.

export interface SubscriptionEventHandlerDeps {
  logger: Pick<Logger, 'warn' | 'error'>;
  /** SUBSCRIPTION_GRACE_SECONDS, for a workflow this has to start. */
  graceSeconds: number;
}

function read<T>(parse: (object: unknown) => T, event: PaymentEvent): T {
  try {
    return parse(event.object);
  } catch (err) {
    if (err instanceof MalformedStripeObjectError) throw ApplicationFailure.nonRetryable(`${event.type} ${event.id}: ${err.message}`, 'PaymentEventMalformed');
    throw err;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createSubscriptionEventHandlers(deps: SubscriptionEventHandlerDeps): Map<KnownStripeEventType, PaymentEventHandler> {
  const { logger } = deps;

  /** Our subscription: by our id first (Stripe's ids are not unique under stripe-mock), else by Stripe's. */
  async function subscriptionOf(ctx: PaymentEventContext, event: PaymentEvent, ids: { subscriptionId?: string; providerSubscriptionId: string | null }) {
    let query = ctx.trx.selectFrom('subscriptions').select(['id', 'channel_id', 'status', 'gift_id']);
    if (ids.subscriptionId && UUID.test(ids.subscriptionId)) query = query.where('id', '=', ids.subscriptionId);
    else if (ids.providerSubscriptionId) query = query.where('provider_subscription_id', '=', ids.providerSubscriptionId);
    else {
      logger.warn({ eventId: event.id, type: event.type }, 'subscription event names no subscription; ignored');
      return undefined;
    }
    const row = await query.executeTakeFirst();
    if (!row) logger.warn({ eventId: event.id, type: event.type, ...ids }, 'subscription event about no subscription of ours; ignored');
    else if (row.gift_id) {
      logger.warn({ eventId: event.id, type: event.type, subscriptionId: row.id }, 'provider event about a gift subscription; ignored');
      return undefined;
    }
    return row;
  }

  /** Signals the workflow, starting it if it is missing (a subscription still current always has one running). */
  async function signal(row: { id: string; channel_id: string; status: SubscriptionStatus }, name: string, payload: unknown): Promise<void> {
    if (!(CURRENT_STATUSES as readonly string[]).includes(row.status)) return;
    const context = Context.current();
    await context.client.workflow.signalWithStart('subscriptionLifecycle', {
      workflowId: workflowIds.subscription(row.id),
      taskQueue: context.info.taskQueue,
      args: [{ subscriptionId: row.id, graceSeconds: deps.graceSeconds }],
      signal: name,
      signalArgs: [payload],
      typedSearchAttributes: [
        { key: searchAttributes.CreatorId, value: row.channel_id },
        { key: searchAttributes.Phase, value: row.status },
      ],
    });
  }

  const invoiceHandler =
    (paid: boolean): PaymentEventHandler =>
    async (ctx, event) => {
      const invoice = read(readInvoice, event);
      const row = await subscriptionOf(ctx, event, invoiceSubscriptionIds(invoice));
      if (!row) return;
      const period = invoicePeriod(invoice);
      if (paid) {
        if (!period) throw ApplicationFailure.nonRetryable(`${event.type} ${event.id}: the invoice names no period`, 'PaymentEventMalformed');
        const payload: InvoicePaidSignal = {
          invoiceId: invoice.id,
          amount: (invoice.amount_paid ?? 0n).toString(),
          currency: invoice.currency,
          periodStart: new Date(period.start * 1000).toISOString(),
          periodEnd: new Date(period.end * 1000).toISOString(),
        };
        await signal(row, SUBSCRIPTION_SIGNALS.invoicePaid, payload);
      } else {
        const payload: InvoiceFailedSignal = {
          invoiceId: invoice.id,
          amount: (invoice.amount_due ?? 0n).toString(),
          currency: invoice.currency,
          attempt: invoice.attempt_count ?? 1,
          periodEnd: period ? new Date(period.end * 1000).toISOString() : null,
          nextAttemptAt: invoice.next_payment_attempt ? new Date(invoice.next_payment_attempt * 1000).toISOString() : null,
        };
        await signal(row, SUBSCRIPTION_SIGNALS.invoiceFailed, payload);
      }
    };

  const subscriptionHandler =
    (deleted: boolean): PaymentEventHandler =>
    async (ctx, event) => {
      const subscription = read(readSubscription, event);
      const row = await subscriptionOf(ctx, event, { subscriptionId: subscriptionMetadataId(subscription), providerSubscriptionId: subscription.id });
      if (!row) return;
      const payload: ProviderChangedSignal = {
        status: subscription.status,
        cancelAtPeriodEnd: Boolean(subscription.cancel_at_period_end),
        deleted,
        eventCreatedAt: event.createdAt.getTime(),
      };
      await signal(row, SUBSCRIPTION_SIGNALS.providerChanged, payload);
    };

  return new Map<KnownStripeEventType, PaymentEventHandler>([
    ['invoice.paid', invoiceHandler(true)],
    ['invoice.payment_failed', invoiceHandler(false)],
    ['customer.subscription.updated', subscriptionHandler(false)],
    ['customer.subscription.deleted', subscriptionHandler(true)],
  ]);
}

/** Puts the subscription handlers in activities/payments.ts's registry (the worker entrypoint does, once). */
export function registerSubscriptionEventHandlers(deps: SubscriptionEventHandlerDeps): void {
  for (const [type, handler] of createSubscriptionEventHandlers(deps)) registerStripeEventHandler(type, handler);
}
