import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { EmailActivities } from '../activities/email.ts';
import type { NotificationEmailActivities, QueuedPage } from '../activities/notification-email.ts';

const queue = proxyActivities<NotificationEmailActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const email = proxyActivities<Pick<EmailActivities, 'sendEmail'>>({
  startToCloseTimeout: '1 minute',
  // An SMTP relay down for hours still gets the message once it is back, within a day.
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Messages sent at once: each `sendEmail` holds one SMTP connection and one row lock. */
const SEND_PARALLEL = 10;

export interface SweepInput {
  /** Recipients (or users) per page; each page is one activity. */
  pageSize?: number;
  /** Pages per run before continue-as-new, keeping every history small. */
  maxPagesPerRun?: number;
  after?: string | null;
  sent?: number;
}

async function sendAll(outboxIds: readonly string[]): Promise<number> {
  let sentNow = 0;
  for (let i = 0; i < outboxIds.length; i += SEND_PARALLEL) {
    const results = await Promise.all(outboxIds.slice(i, i + SEND_PARALLEL).map((outboxId) => email.sendEmail({ outboxId })));
    sentNow += results.filter((r) => r.sentNow).length;
  }
  return sentNow;
}

/** Pages through `queuePage`, sending each page's messages, continuing as new before the history grows. */
async function sweep(input: SweepInput, queuePage: (after: string | null, limit: number) => Promise<QueuedPage>, again: (next: SweepInput) => Promise<never>) {
  const pageSize = input.pageSize ?? 200;
  const maxPagesPerRun = input.maxPagesPerRun ?? 50;
  let after = input.after ?? null;
  let sent = input.sent ?? 0;
  for (let pages = 0; ; pages += 1) {
    if (pages >= maxPagesPerRun || workflowInfo().continueAsNewSuggested) return again({ ...input, after, sent });
    const page = await queuePage(after, pageSize);
    sent += await sendAll(page.outboxIds);
    if (page.next === null) return { sent };
    after = page.next;
  }
}

/**
 * `notification-email/<eventId>`, started by the event's fan-out once it is delivered: one
 * mail per notification of the event to each recipient whose channel for the type is
 * `instant`. Keys per notification id make a re-run or a retried page mail nothing twice.
 */
export async function notificationEmailWorkflow(input: SweepInput & { eventId: string; awaitNotifications?: boolean }): Promise<{ sent: number }> {
  return sweep(
    input,
    (after, limit) => queue.queueInstantEmails({ eventId: input.eventId, after, limit, ...(input.awaitNotifications ? { awaitNotifications: true } : {}) }),
    (next) => continueAsNew<typeof notificationEmailWorkflow>({ ...input, ...next }),
  );
}

/**
 * Run daily by the `notification-digest` Schedule (NOTIFICATION_DIGEST_HOUR_UTC): one digest
 * per user of what arrived before the run started, over users in pages. `runAt` (the first
 * run's start time, kept across continue-as-new) is the cut-off and names the day.
 */
export async function notificationDigestWorkflow(input: SweepInput & { runAt?: string } = {}): Promise<{ sent: number }> {
  const runAt = input.runAt ?? workflowInfo().startTime.toISOString();
  return sweep(
    input,
    (after, limit) => queue.queueDigestPage({ runAt, after, limit }),
    (next) => continueAsNew<typeof notificationDigestWorkflow>({ ...input, ...next, runAt }),
  );
}
