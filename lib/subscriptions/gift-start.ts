import { startIdempotently, searchAttributes, type Temporal } from '../temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';

// How a paid gift of subscriptions is handed to its workflow (workflows/subscription-gift.ts,
// type name `subscriptionGiftWorkflow`, id `subscription-gift/<giftId>`): the id makes a
// second success event of the same payment start nothing new.

export interface GiftDistributionInput {
  giftId: string;
  /** Passed on to each gifted subscription's workflow (SUBSCRIPTION_GRACE_SECONDS). */
  graceSeconds: number;
  /** How long each gifted subscription lasts; a calendar month unless a test shortens it. */
  giftPeriodSeconds?: number;
}

/** What the payment handlers need to start a gift's distribution (the worker passes its config). */
export interface GiftDistributionSettings {
  graceSeconds: number;
  giftPeriodSeconds?: number;
}

export async function startGiftDistribution(temporal: Pick<Temporal, 'client' | 'taskQueue'>, input: GiftDistributionInput, channelId: string): Promise<string> {
  const workflowId = workflowIds.subscriptionGift(input.giftId);
  await startIdempotently(
    temporal.client.workflow.start('subscriptionGiftWorkflow', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: searchAttributes.CreatorId, value: channelId },
        { key: searchAttributes.Phase, value: 'distributing' },
      ],
    }),
  );
  return workflowId;
}
