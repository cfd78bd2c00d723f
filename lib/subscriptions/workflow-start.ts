import { startIdempotently, searchAttributes, type Temporal } from '../temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';

// How the API and activities start a subscription's workflow. The workflow itself lives in
// workflows/subscription.ts (type name `subscriptionLifecycle`); its id is `subscription/<id>`,
// so a retried start is a no-op.

export interface SubscriptionWorkflowInput {
  subscriptionId: string;
  /** How long a failed renewal stays past_due before the subscription lapses (SUBSCRIPTION_GRACE_SECONDS). */
  graceSeconds: number;
  /** Gifts only: the length of the one period they last; a calendar month unless a test shortens it. */
  giftPeriodSeconds?: number;
}

export async function startSubscriptionWorkflow(temporal: Pick<Temporal, 'client' | 'taskQueue'>, input: SubscriptionWorkflowInput, channelId: string): Promise<string> {
  const workflowId = workflowIds.subscription(input.subscriptionId);
  await startIdempotently(
    temporal.client.workflow.start('subscriptionLifecycle', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: searchAttributes.CreatorId, value: channelId },
        { key: searchAttributes.Phase, value: 'incomplete' },
      ],
    }),
  );
  return workflowId;
}
