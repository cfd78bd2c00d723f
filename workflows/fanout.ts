import { WorkflowExecutionAlreadyStartedError, type Duration } from '@temporalio/common';
import { continueAsNew, defineQuery, ParentClosePolicy, patched, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/notifications.ts';
import type { Audience, NotificationEvent } from '../lib/notifications.ts';
import { workflowIds } from './ids.ts';
import { notificationEmailWorkflow } from './notification-email.ts';

export interface FanoutProgress {
  /** Keyset cursor: the last follower id (or list index) fully delivered. */
  after: string | null;
  delivered: number;
  pages: number;
  run: number;
}

export interface FanoutInput {
  event: NotificationEvent;
  audience: Audience;
  pageSize?: number;
  /** Pages delivered at once; each is an independent idempotent activity. */
  parallelPages?: number;
  /** Pages per run before continue-as-new, keeping every history small. */
  maxPagesPerRun?: number;
  /** How long one page may take before it is retried elsewhere (a worker that died mid-page). */
  pageTimeout?: Duration;
  progress?: FanoutProgress;
}

export const fanoutProgressQuery = defineQuery<FanoutProgress>('progress');

/**
 * Once every notification of the event is stored: the instant mail goes out in its own
 * workflow, which pages over the event's rows (a fan-out to a million followers starts one
 * workflow, not a million), and the fan-out finishes without waiting for SMTP.
 */
async function mailInstantly(eventId: string): Promise<void> {
  // Fan-outs started before notification email finish as they began.
  if (!patched('notification-email')) return;
  try {
    await startChild(notificationEmailWorkflow, {
      workflowId: workflowIds.notificationEmail(eventId),
      args: [{ eventId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // A re-run of the same event: its mail workflow ran (or runs) already, and mails each notification once anyway.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * `fanout/<eventId>`: delivers one event to its whole audience in keyset pages, several at
 * a time, continuing as new before the history grows. Re-running the same event, or
 * resuming after a crash, inserts nothing twice: the database holds one row per
 * (event, recipient).
 */
export async function fanoutWorkflow(input: FanoutInput): Promise<FanoutProgress> {
  const pageSize = input.pageSize ?? 5000;
  const parallel = input.parallelPages ?? 4;
  const maxPagesPerRun = input.maxPagesPerRun ?? 200;
  const progress: FanoutProgress = input.progress ?? { after: null, delivered: 0, pages: 0, run: 1 };
  const activities = proxyActivities<NotificationActivities>({
    startToCloseTimeout: input.pageTimeout ?? '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  setHandler(fanoutProgressQuery, () => progress);

  const { audience, event } = input;
  if (audience.kind === 'users') {
    for (let i = Number(progress.after ?? 0); i < audience.userIds.length; i += pageSize) {
      progress.delivered += await activities.deliverToUsers({ event, userIds: audience.userIds.slice(i, i + pageSize) });
      progress.pages += 1;
      progress.after = String(Math.min(i + pageSize, audience.userIds.length));
    }
    await mailInstantly(event.id);
    return progress;
  }

  let pagesThisRun = 0;
  for (;;) {
    const bounds = await activities.planFollowerPages({
      followeeId: audience.userId,
      after: progress.after,
      pageSize,
      maxPages: Math.min(parallel * 8, maxPagesPerRun - pagesThisRun),
    });
    if (!bounds.length) {
      await mailInstantly(event.id);
      return progress;
    }
    for (let i = 0; i < bounds.length; i += parallel) {
      const window = bounds.slice(i, i + parallel);
      const lowerBounds = [progress.after, ...window.slice(0, -1)];
      const delivered = await Promise.all(
        window.map((upTo, j) => activities.deliverToFollowerPage({ event, followeeId: audience.userId, after: lowerBounds[j] ?? null, upTo })),
      );
      progress.delivered += delivered.reduce((a, b) => a + b, 0);
      progress.pages += window.length;
      progress.after = window.at(-1)!;
      pagesThisRun += window.length;
    }
    if (pagesThisRun >= maxPagesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof fanoutWorkflow>({ ...input, progress: { ...progress, run: progress.run + 1 } });
    }
  }
}
