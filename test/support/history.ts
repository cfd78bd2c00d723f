import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, tsToMs } from '@temporalio/common';
import proto, { type temporal } from '@temporalio/proto';

// What a workflow did, read from its history: the record Temporal keeps, so a test can pin a
// duration or a sequence the code chose without waiting it out.

type Handle = WorkflowHandle;
type Payload = temporal.api.common.v1.IPayload;

const decode = (payload: Payload | null | undefined): unknown => (payload ? defaultPayloadConverter.fromPayload(payload) : undefined);

async function eventsOf(handle: Handle): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** The input the run was started with. */
export async function startInputOf<T>(handle: Handle): Promise<T> {
  const [started] = await eventsOf(handle);
  return decode(started?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]) as T;
}

/** Every timer the run started (each `sleep` or `condition` with a timeout), in seconds, in order. */
export async function timersOf(handle: Handle): Promise<number[]> {
  return (await eventsOf(handle)).flatMap((e) => {
    const timer = e.timerStartedEventAttributes;
    return timer ? [tsToMs(timer.startToFireTimeout) / 1000] : [];
  });
}

/** The values a search attribute took: the one the run started with (if any), then every upsert, in order. */
export async function searchAttributeValues(handle: Handle, key: string): Promise<unknown[]> {
  return (await eventsOf(handle)).flatMap((e) => {
    const fields = e.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    const value = fields?.[key];
    if (!value) return [];
    const decoded = decode(value);
    // Keyword values are stored as a list by older servers and SDKs.
    return [Array.isArray(decoded) && decoded.length === 1 ? decoded[0] : decoded];
  });
}

/** The retry policy each scheduled activity of `type` carried. */
export async function activityRetryPolicies(handle: Handle, type: string): Promise<temporal.api.common.v1.IRetryPolicy[]> {
  return (await eventsOf(handle)).flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    return scheduled?.activityType?.name === type && scheduled.retryPolicy ? [scheduled.retryPolicy] : [];
  });
}

/** The start event of every activity of `type` (the server records only each activity's last attempt). */
function activityStarts(events: temporal.api.history.v1.IHistoryEvent[], type: string): temporal.api.history.v1.IActivityTaskStartedEventAttributes[] {
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)));
  return events.flatMap((e) => {
    const started = e.activityTaskStartedEventAttributes;
    return started && scheduled.has(String(started.scheduledEventId)) ? [started] : [];
  });
}

/** The attempt number of every start of an activity of `type`. */
export async function activityAttemptsOf(handle: Handle, type: string): Promise<number[]> {
  return activityStarts(await eventsOf(handle), type).map((started) => started.attempt ?? 0);
}

/**
 * The start the server recorded for the one activity of `type` (it keeps only the last attempt's):
 * its attempt number, the worker that took it, and the timeout that ended the attempt before it.
 */
export async function lastActivityStartOf(handle: Handle, type: string): Promise<{ attempt: number; identity: string; previousTimeout: string | undefined }> {
  const [started, ...more] = activityStarts(await eventsOf(handle), type);
  if (!started || more.length > 0) throw new Error(`expected one start of ${type} in the history, found ${more.length + (started ? 1 : 0)}`);
  const timeoutType = started.lastFailure?.timeoutFailureInfo?.timeoutType;
  return {
    attempt: started.attempt ?? 0,
    identity: started.identity ?? '',
    previousTimeout: timeoutType == null ? undefined : proto.temporal.api.enums.v1.TimeoutType[timeoutType],
  };
}

/** The heartbeat details the server holds for the running activity of `type`, if any. */
export async function heartbeatDetailsOf(handle: Handle, type: string): Promise<unknown> {
  const { raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
  return decode(pending?.heartbeatDetails?.payloads?.[0]);
}

/** The attempt the server holds for the running activity of `type` and why the last one failed, if it is pending. */
export async function pendingActivityOf(handle: Handle, type: string): Promise<{ attempt: number; lastFailure: string | undefined } | undefined> {
  const { raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
  return pending ? { attempt: pending.attempt ?? 0, lastFailure: pending.lastFailure?.message ?? undefined } : undefined;
}

/**
 * The run's history in one line per event (type, and the activity, timer or failure it names),
 * for a test's error message when a wait on the workflow times out: CI then shows where it stood.
 */
export async function historySummary(handle: Handle): Promise<string> {
  const { EventType } = proto.temporal.api.enums.v1;
  return (await eventsOf(handle))
    .map((e) => {
      const detail =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.timerStartedEventAttributes?.startToFireTimeout?.seconds?.toString() ??
        e.workflowTaskFailedEventAttributes?.failure?.message ??
        e.activityTaskFailedEventAttributes?.failure?.message ??
        e.activityTaskTimedOutEventAttributes?.failure?.message ??
        '';
      return `${String(e.eventId)} ${EventType[e.eventType ?? 0]} ${detail}`.trim();
    })
    .join('\n');
}
