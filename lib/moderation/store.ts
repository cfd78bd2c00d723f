import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Db } from '../db.ts';
import type { Nats } from '../nats.ts';
import { insertNotifications, mailNotificationEvent, pushNotifications, type NotificationEvent, type WorkflowStarter } from '../notifications.ts';
import { accountBlock } from '../access.ts';
import type { Database, UserStatus } from '../schema.ts';
import { caseIdOf, priorityRank, type Priority, type ReportReason, type TargetType } from '../../workflows/plans/moderation.ts';

// Moderation rows: cases, reports, the append-only audit log, and the payout hold a decision
// sets. Plain functions over `db` or a transaction, shared by the API and the activities.

type Executor = Kysely<Database> | Transaction<Database>;

export interface AuditRow {
  caseId: string;
  actorId: string | null;
  action: string;
  detail?: Record<string, unknown>;
  prior?: Record<string, unknown> | null;
  /** Unique: a retried write appends nothing. */
  key: string;
}

/** Appends one audit row; false when its key was already written (the step already happened). */
export async function appendAudit(db: Executor, row: AuditRow): Promise<boolean> {
  const inserted = await db
    .insertInto('moderation_audit')
    .values({
      case_id: row.caseId,
      actor_id: row.actorId,
      // The name as it was, so the log still reads right after the account is gone.
      actor_name: row.actorId ? sql<string>`coalesce((select username from users where id = ${row.actorId}), 'deleted user')` : 'system',
      action: row.action,
      detail: JSON.stringify(row.detail ?? {}),
      prior: row.prior === undefined || row.prior === null ? null : JSON.stringify(row.prior),
      idempotency_key: row.key,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Whether a case other than `caseId` banned this user and was not reversed (its ban stands). */
export async function otherCaseStillBans(db: Executor, caseId: string, userId: string): Promise<boolean> {
  const row = await sql<{ one: number }>`
    select 1 as one from moderation_audit a
    where a.action = 'effect:ban' and a.detail->>'userId' = ${userId} and a.case_id <> ${caseId}
      and not exists (select 1 from moderation_audit r where r.idempotency_key = a.case_id || ':reverse:ban:' || ${userId})
    limit 1`.execute(db);
  return row.rows.length > 0;
}

/** The audit row written under `key`, if any (a reversal reads the prior state its effect saved). */
export function auditRowByKey(db: Executor, key: string) {
  return db.selectFrom('moderation_audit').select(['prior', 'detail']).where('idempotency_key', '=', key).executeTakeFirst();
}

export interface AccountRestriction {
  status: 'suspended' | 'banned';
  /** When a suspension ends; null for a ban (or a suspension without an end). */
  until: string | null;
  /** The cases whose suspension or ban still stands: where to read the reasons and appeal. */
  caseIds: string[];
}

/**
 * Why a suspended or banned account is restricted: its status, until when, and the cases
 * whose ban or suspension was neither reversed nor lifted. Empty `caseIds` when the status
 * was set outside moderation.
 */
export async function accountRestriction(db: Executor, user: { id: string; status: UserStatus; suspended_until: Date | null }): Promise<AccountRestriction | null> {
  if (!accountBlock(user) || user.status === 'active') return null;
  const { rows } = await sql<{ case_id: string }>`
    select a.case_id from moderation_audit a
    where a.action in ('effect:ban', 'effect:suspend') and a.detail->>'userId' = ${user.id}
      and not exists (
        select 1 from moderation_audit r
        where r.case_id = a.case_id and (r.action = 'reversed:' || substr(a.action, 8) or (a.action = 'effect:suspend' and r.action = 'suspension_lifted'))
      )
    order by a.id`.execute(db);
  return { status: user.status, until: user.suspended_until?.toISOString() ?? null, caseIds: [...new Set(rows.map((r) => r.case_id))] };
}

export interface ReportIntake {
  reporterId: string;
  targetType: TargetType;
  targetId: string;
  targetOwnerId: string | null;
  reason: ReportReason;
  details: string;
  timestampSeconds: number | null;
  priority: Priority;
  snapshot: Record<string, unknown>;
}

/** The target of a report or an automatic signal, as the case row records it. */
export interface CaseTarget {
  targetType: TargetType;
  targetId: string;
  targetOwnerId: string | null;
  priority: Priority;
  snapshot: Record<string, unknown>;
}

/**
 * The target's open case, or case n+1 when the latest one is already decided (a new offence is
 * a new case). The latest case's row is locked until the transaction ends, so a decision cannot
 * slip between reading its status and adding the report or signal to it. Concurrent first
 * reports and signals all compute the same id and meet on the primary key. Run inside the
 * transaction that files the report or signal.
 */
export async function openOrJoinCase(tx: Executor, target: CaseTarget): Promise<{ caseId: string; opened: boolean }> {
  const latest = await tx
    .selectFrom('moderation_cases')
    .select(['id', 'sequence', 'status'])
    .where('target_type', '=', target.targetType)
    .where('target_id', '=', target.targetId)
    .orderBy('sequence', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  if (latest && (latest.status === 'open' || latest.status === 'claimed')) return { caseId: latest.id, opened: false };
  const sequence = (latest?.sequence ?? 0) + 1;
  const caseId = caseIdOf(target.targetType, target.targetId, sequence);
  const created = await tx
    .insertInto('moderation_cases')
    .values({
      id: caseId,
      target_type: target.targetType,
      target_id: target.targetId,
      sequence,
      target_owner_id: target.targetOwnerId,
      priority: target.priority,
      priority_rank: priorityRank(target.priority),
      snapshot: target.snapshot,
      claimed_by: null,
      claim_expires_at: null,
      decision: null,
      decided_by: null,
      decided_at: null,
      sla_due_at: null,
      closed_at: null,
    })
    // Every unique index arbitrates: with only `id` named, a concurrent first insert can still
    // fail on (target_type, target_id, sequence), the same row seen through the other index.
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return { caseId, opened: created !== undefined };
}

/**
 * Whether a reporter alone may trigger a `minor_safety` interim measure: an account at least
 * `minAgeHours` old, active, and without an active strike. Anyone may still report; the others'
 * reports count toward the distinct reporters that trigger it anyway.
 */
export async function trustedReporter(db: Db, userId: string, minAgeHours: number): Promise<boolean> {
  const { rows } = await sql<{ trusted: boolean }>`
    select u.status = 'active'
      and u.created_at <= now() - make_interval(hours => ${minAgeHours})
      and not exists (select 1 from strikes s where s.user_id = u.id and s.expired_at is null and s.removed_at is null and s.expires_at > now()) as trusted
    from users u where u.id = ${userId}`.execute(db);
  return rows[0]?.trusted ?? false;
}

/**
 * Files a report into the target's open case (`openOrJoinCase`). A reporter's second report on
 * one case is the same report and counts once: `reportCount` is the case's count of distinct
 * reporters after this report.
 */
export async function fileReport(db: Db, intake: ReportIntake): Promise<{ caseId: string; reportId: string; duplicate: boolean; opened: boolean; reportCount: number }> {
  return db.transaction().execute(async (tx) => {
    const { caseId, opened } = await openOrJoinCase(tx, intake);
    const report = await tx
      .insertInto('reports')
      .values({ case_id: caseId, reporter_id: intake.reporterId, reason: intake.reason, details: intake.details, timestamp_seconds: intake.timestampSeconds })
      .onConflict((oc) => oc.columns(['case_id', 'reporter_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!report) {
      const existing = await tx
        .selectFrom('reports')
        .innerJoin('moderation_cases as c', 'c.id', 'reports.case_id')
        .select(['reports.id', 'c.report_count'])
        .where('reports.case_id', '=', caseId)
        .where('reports.reporter_id', '=', intake.reporterId)
        .executeTakeFirstOrThrow();
      return { caseId, reportId: existing.id, duplicate: true, opened, reportCount: existing.report_count };
    }
    const counted = await tx
      .updateTable('moderation_cases')
      .set((eb) => ({ report_count: eb('report_count', '+', 1), updated_at: new Date() }))
      .where('id', '=', caseId)
      .returning('report_count')
      .executeTakeFirstOrThrow();
    return { caseId, reportId: report.id, duplicate: false, opened, reportCount: counted.report_count };
  });
}

/** Whether this user filed a report on the case (a moderator never reviews their own report). */
export async function isReporter(db: Executor, caseId: string, userId: string): Promise<boolean> {
  return (await db.selectFrom('reports').select('id').where('case_id', '=', caseId).where('reporter_id', '=', userId).executeTakeFirst()) !== undefined;
}

/**
 * In-app notifications for whoever `recipients` (a query yielding `recipient_id`) selects,
 * once per (event, recipient), pushed to those online. Not subject to notification settings:
 * a statement of reasons and a report's outcome are owed, not optional. Mailed too, to verified
 * addresses (README, "Notification email").
 */
export async function notifyRecipients(db: Db, nats: Nats, temporal: WorkflowStarter, event: NotificationEvent, recipients: RawBuilder<unknown>): Promise<number> {
  await insertNotifications(db, event, recipients, { mandatory: true });
  // Pushed in pages by recipient id; rows of an earlier attempt are pushed again (clients de-duplicate by id).
  let after = '00000000-0000-0000-0000-000000000000';
  let pushed = 0;
  for (;;) {
    const rows = await db
      .selectFrom('notifications')
      .select(['id', 'recipient_id', 'type', 'actor_id', 'entity_type', 'entity_id', 'payload', 'read_at', 'created_at'])
      .where('event_id', '=', event.id)
      .where('recipient_id', '>', after)
      .orderBy('recipient_id')
      .limit(1000)
      .execute();
    await pushNotifications(nats, rows);
    pushed += rows.length;
    if (rows.length < 1000) break;
    after = rows.at(-1)!.recipient_id;
  }
  await mailNotificationEvent(temporal, event.id);
  return pushed;
}
