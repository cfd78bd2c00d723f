import { ApplicationFailure } from '@temporalio/common';
import { sql, type RawBuilder } from 'kysely';
import type { fanoutWorkflow } from '../workflows/fanout.ts';
import type { notificationEmailWorkflow } from '../workflows/notification-email.ts';
import { workflowIds } from '../workflows/ids.ts';
import { isPermanentDataError, type Db, type Tx } from './db.ts';
import type { Nats } from './nats.ts';
import type { Notification, NotificationType } from './schema.ts';
import { startIdempotently, type Temporal } from './temporal.ts';

export interface NotificationEvent {
  /** Unique per real-world event (e.g. `stream_live:<streamId>:<broadcastId>`); the workflow id derives from it. */
  id: string;
  type: NotificationType;
  actorId: string | null;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
}

export type Audience = { kind: 'followers'; userId: string } | { kind: 'users'; userIds: string[] };

/**
 * The one way code outside workflows raises a notification event. Starting `fanout/<eventId>`
 * is idempotent: the same event raised twice (a retried request, two API processes) runs
 * once, and within the namespace's retention even a finished event is not repeated.
 * Workflows raise events by starting the same workflow as a child with the same id.
 */
export async function raiseNotificationEvent(temporal: Temporal, event: NotificationEvent, audience: Audience): Promise<string> {
  const workflowId = workflowIds.fanout(event.id);
  await startIdempotently(
    temporal.client.workflow.start<typeof fanoutWorkflow>('fanoutWorkflow', {
      workflowId,
      taskQueue: temporal.taskQueue,
      args: [{ event, audience }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  return workflowId;
}

/** What starting a workflow needs: the API's Temporal, or an activity's (activities/notification-email.ts activityTemporal). */
export type WorkflowStarter = Pick<Temporal, 'client' | 'taskQueue'>;

/**
 * Mails an event's stored notifications to the recipients who get that type instantly
 * (`notification-email/<eventId>`). Call it once the rows are committed, or, with
 * `awaitNotifications`, inside the transaction that writes them: the workflow then waits for
 * the commit, and a failed start rolls the writes back, so no commit goes unmailed. The fan-out
 * starts the same workflow itself. Idempotent: every message is keyed by its notification.
 */
export async function mailNotificationEvent(temporal: WorkflowStarter, eventId: string, options: { awaitNotifications?: boolean } = {}): Promise<void> {
  await startIdempotently(
    temporal.client.workflow.start<typeof notificationEmailWorkflow>('notificationEmailWorkflow', {
      workflowId: workflowIds.notificationEmail(eventId),
      taskQueue: temporal.taskQueue,
      args: [{ eventId, ...(options.awaitNotifications ? { awaitNotifications: true } : {}) }],
    }),
  );
}

/** An event the database rejects (bad ids, unknown actor) would be rejected forever: fail fast. */
async function rejectingBadEvents<T>(event: NotificationEvent, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isPermanentDataError(err)) {
      throw ApplicationFailure.nonRetryable(`Event ${event.id} cannot be delivered: ${(err as Error).message}`, 'InvalidNotificationEvent');
    }
    throw err;
  }
}

/**
 * One set-based insert for every candidate (a query yielding `recipient_id`) who still exists
 * and has not turned this type off; idempotent per (event, recipient). `mandatory` skips the
 * recipients' settings: a statement of reasons or a report's outcome is owed, not optional.
 * Returns the rows it inserted. Runs in the caller's transaction when given one (a payment's
 * booking notifies its creator in the same commit).
 */
export async function insertNotifications(
  executor: Db | Tx,
  event: NotificationEvent,
  candidates: RawBuilder<unknown>,
  options: { mandatory?: boolean } = {},
): Promise<StoredNotification[]> {
  const respectSettings = options.mandatory
    ? sql``
    : sql`where not exists (
        select 1 from notification_settings s
        where s.user_id = c.recipient_id and s.type = ${event.type} and not s.in_app
      )`;
  const { rows } = await rejectingBadEvents(event, () => sql<StoredNotification>`
    insert into notifications (event_id, recipient_id, type, actor_id, entity_type, entity_id, payload)
    select ${event.id}, c.recipient_id, ${event.type}, ${event.actorId}::uuid, ${event.entityType}, ${event.entityId}, ${JSON.stringify(event.payload)}::jsonb
    from (${candidates}) c
    join users u on u.id = c.recipient_id and u.deleted_at is null
    ${respectSettings}
    on conflict (event_id, recipient_id) do nothing
    returning id, recipient_id, type, actor_id, entity_type, entity_id, payload, read_at, created_at`.execute(executor));
  return rows;
}

export function notificationSubject(nats: Nats, userId: string): string {
  return nats.subject(`user.${userId}.notifications`);
}

export type StoredNotification = Pick<Notification, 'id' | 'recipient_id' | 'type' | 'actor_id' | 'entity_type' | 'entity_id' | 'payload' | 'read_at' | 'created_at'>;

/**
 * Pushes stored notifications to their recipients' open sessions: every realtime gateway with
 * a socket of the user subscribes to the user's subject. Call it once the rows are committed
 * (a client told about a row must find it). A push is at most once; a lost one is still in
 * `GET /notifications`, and clients de-duplicate by id.
 */
export async function pushNotifications(nats: Nats, rows: readonly StoredNotification[]): Promise<void> {
  if (!rows.length) return;
  for (const row of rows) nats.connection.publish(notificationSubject(nats, row.recipient_id), JSON.stringify(notificationView(row)));
  await nats.connection.flush();
}

/** The JSON clients see, over the API and pushed over NATS/WebSockets alike. */
export function notificationView(n: Pick<Notification, 'id' | 'type' | 'actor_id' | 'entity_type' | 'entity_id' | 'payload' | 'read_at' | 'created_at'>) {
  return {
    id: n.id,
    type: n.type,
    actorId: n.actor_id,
    entityType: n.entity_type,
    entityId: n.entity_id,
    payload: n.payload,
    readAt: n.read_at?.toISOString() ?? null,
    createdAt: n.created_at.toISOString(),
  };
}
