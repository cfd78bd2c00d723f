import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { GiftDistribution, GiftDistributionInput, SubscriptionGiftActivities } from '../activities/subscription-gifts.ts';
import { searchAttributes } from './search-attributes.ts';

const gifts = proxyActivities<SubscriptionGiftActivities>({
  heartbeatTimeout: '30 seconds',
  startToCloseTimeout: '5 minutes',
  // Paid for: the subscriptions must be given eventually. It also waits here, retrying, while
  // the payment's booking (which started this workflow) has not committed yet.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['GiftMissing'] },
});

/**
 * `subscription-gift/<giftId>`: started by the success of a gift's payment (in the booking's
 * transaction), gives the gift's subscriptions to its recipients and starts each one's
 * `subscription/<id>` workflow. The id makes a second success event start nothing new.
 */
export async function subscriptionGiftWorkflow(input: GiftDistributionInput): Promise<GiftDistribution> {
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'distributing' }]);
  const result = await gifts.distributeSubscriptionGift(input);
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: result.status }]);
  return result;
}
