import { Context } from '@temporalio/activity';
import type { WorkflowStarter } from '../lib/notifications.ts';

/** The running activity's worker client and task queue, for starting or signalling workflows from it. */
export function activityTemporal(): WorkflowStarter {
  const context = Context.current();
  return { client: context.client, taskQueue: context.info.taskQueue };
}
