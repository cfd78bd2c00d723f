import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { EmailActivities, EmailRequest } from '../activities/email.ts';
import { searchAttributes } from './search-attributes.ts';

const email = proxyActivities<EmailActivities>({
  startToCloseTimeout: '1 minute',
  // An SMTP relay down for hours still gets the message once it is back, within a day.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * `email/<purpose>/<requestId>`: writes the message (with its token) into the outbox, then
 * sends it. Each step is idempotent (README, "Email"), so retries and replays mail it once.
 */
export async function emailWorkflow(request: EmailRequest): Promise<{ outboxId: string | null; sentNow: boolean }> {
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'preparing' }]);
  const prepared = await email.prepareEmail(request);
  if (!prepared) {
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'nobody-to-mail' }]);
    return { outboxId: null, sentNow: false };
  }
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'sending' }]);
  const { sentNow } = await email.sendEmail(prepared);
  upsertSearchAttributes([{ key: searchAttributes.Phase, value: 'sent' }]);
  return { outboxId: prepared.outboxId, sentNow };
}
