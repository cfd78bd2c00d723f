import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { sql } from 'kysely';
import { publishChatEvent } from '../lib/chat.ts';
import { setCommentHidden } from '../lib/comments.ts';
import type { Db } from '../lib/db.ts';
import type { Mongo } from '../lib/mongo.ts';
import type { Nats } from '../lib/nats.ts';
import { priorityRank, type Decision, type Effect, type Priority } from '../workflows/plans/moderation.ts';
import { effectKey } from '../workflows/plans/moderation.ts';
import { activityTemporal } from './activity-temporal.ts';
import { appendAudit, auditRowByKey, isReporter, notifyRecipients, otherCaseStillBans } from '../lib/moderation/store.ts';
import { caseHoldSource, liftPayoutHold, setPayoutHold } from '../lib/payouts/holds.ts';
import { dropClient } from '../lib/rtmp.ts';
import { publishSignOut } from '../lib/sign-outs.ts';
import { workflowIds } from '../workflows/ids.ts';

interface ModerationActivityDeps {
  db: Db;
  mongo: Mongo;
  nats: Nats;
  rtmpControlUrl: string;
}

/** Three active strikes and an admin is asked to consider terminating the account. */
const STRIKES_FOR_TERMINATION = 3;

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * Side effects of `moderation/<caseId>`. Each one is idempotent: the case's audit row of a
 * step (unique key) is written in the same transaction as the step's own change, so a
 * retried activity finds the row and changes nothing again; what lies outside Postgres
 * (sign-outs, ending a stream, cutting an encoder) is repeated harmlessly.
 */
export function createModerationActivities(deps: ModerationActivityDeps) {
  const { db, nats } = deps;
  const temporalClient = () => Context.current().client;

  const endStream = async (streamId: string) => {
    // Marked first: the recording this end produces must become a hidden VOD, never a public one.
    await db.updateTable('streams').set({ moderation_ended_at: new Date() }).where('id', '=', streamId).where('moderation_ended_at', 'is', null).execute();
    try {
      await temporalClient().workflow.getHandle(workflowIds.stream(streamId)).signal('end');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    // Cut the encoder now as well: the stream workflow does it too once the end is handled,
    // but an enforcement should not wait for that workflow's next task.
    const session = await db.selectFrom('stream_sessions').select('client_id').where('stream_id', '=', streamId).where('ended_at', 'is', null).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
    if (session) await dropClient(deps.rtmpControlUrl, session.client_id).catch(() => 0);
  };

  const caseRow = (caseId: string) => db.selectFrom('moderation_cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();

  return {
    async claimCase(input: { caseId: string; moderatorId: string; claimExpiresAt: string }): Promise<void> {
      if (await isReporter(db, input.caseId, input.moderatorId)) throw refuse('Conflict', 'A moderator may not review a case they reported (own_report)');
      await db.transaction().execute(async (tx) => {
        await tx.updateTable('moderation_cases').set({ status: 'claimed', claimed_by: input.moderatorId, claim_expires_at: new Date(input.claimExpiresAt), updated_at: new Date() }).where('id', '=', input.caseId).execute();
        await appendAudit(tx, { caseId: input.caseId, actorId: input.moderatorId, action: 'claimed', detail: { until: input.claimExpiresAt }, key: `${input.caseId}:claim:${input.moderatorId}:${input.claimExpiresAt}` });
      });
    },

    async releaseClaim(input: { caseId: string; moderatorId: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const released = await tx
          .updateTable('moderation_cases')
          .set({ status: 'open', claimed_by: null, claim_expires_at: null, updated_at: new Date() })
          .where('id', '=', input.caseId)
          .where('status', '=', 'claimed')
          .where('claimed_by', '=', input.moderatorId)
          .returning('claim_expires_at')
          .executeTakeFirst();
        if (released) await appendAudit(tx, { caseId: input.caseId, actorId: null, action: 'claim_lapsed', detail: { moderatorId: input.moderatorId }, key: `${input.caseId}:claim-lapsed:${input.moderatorId}:${released.claim_expires_at?.toISOString()}` });
      });
    },

    async setCasePriority(input: { caseId: string; priority: Priority; slaDueAt: string }): Promise<void> {
      await db.updateTable('moderation_cases').set({ priority: input.priority, priority_rank: priorityRank(input.priority), sla_due_at: new Date(input.slaDueAt), updated_at: new Date() }).where('id', '=', input.caseId).execute();
    },

    /** An unmet SLA: the case moves up the queue and every admin hears of it. */
    async escalateCase(input: { caseId: string; priority: Priority; slaDueAt: string; escalation: number }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const written = await appendAudit(tx, { caseId: input.caseId, actorId: null, action: 'escalated', detail: { priority: input.priority, slaDueAt: input.slaDueAt }, key: `${input.caseId}:escalation:${input.escalation}` });
        if (written) {
          await tx.updateTable('moderation_cases').set({ priority: input.priority, priority_rank: priorityRank(input.priority), sla_due_at: new Date(input.slaDueAt), escalations: input.escalation, updated_at: new Date() }).where('id', '=', input.caseId).execute();
        }
      });
      const row = await caseRow(input.caseId);
      await notifyRecipients(
        db,
        nats,
        activityTemporal(),
        { id: `moderation_escalation:${input.caseId}:${input.escalation}`, type: 'moderation_escalation', actorId: null, entityType: 'moderation_case', entityId: input.caseId, payload: { caseId: input.caseId, priority: input.priority, targetType: row.target_type, targetId: row.target_id, reportCount: row.report_count } },
        sql`select id as recipient_id from users where role = 'admin' and status = 'active'`,
      );
    },

    async recordDecision(input: { caseId: string; moderatorId: string; decision: Decision; effects: Effect[] }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const prior = await tx.selectFrom('moderation_cases').select(['status', 'priority']).where('id', '=', input.caseId).executeTakeFirstOrThrow();
        const written = await appendAudit(tx, { caseId: input.caseId, actorId: input.moderatorId, action: 'decided', detail: { ...input.decision, effects: input.effects }, prior, key: `${input.caseId}:decision` });
        if (written) {
          await tx
            .updateTable('moderation_cases')
            .set({ status: 'decided', decision: { ...input.decision }, decided_by: input.moderatorId, decided_at: new Date(), claimed_by: null, claim_expires_at: null, updated_at: new Date() })
            .where('id', '=', input.caseId)
            .execute();
        }
      });
    },

    /**
     * One effect of a decision (or, `phase: 'interim'`, of an interim measure pending review).
     * Its audit row keeps the state it replaced, for an appeal (or the decision) to restore.
     */
    async applyEffect(input: { caseId: string; effect: Effect; moderatorId: string | null; rule: string; strikeSeconds: number; phase?: 'interim' }): Promise<{ endsAt: string | null }> {
      const { caseId, effect } = input;
      const interim = input.phase === 'interim';
      const key = effectKey(caseId, effect, interim ? 'interim' : 'apply');
      // Only a decision has a moderator; an interim measure hides or age-restricts, nothing else.
      const actor = input.moderatorId ?? 'system';
      await db.transaction().execute(async (tx) => {
        const audit = async (current: Record<string, unknown> | null, detail: Record<string, unknown> = {}) => {
          // A decision that hides (or age-restricts) what this case's interim measure already did
          // takes it over: its prior state is the one from before the interim measure, so an
          // appeal restores that, and lifting the interim measure afterwards changes nothing.
          const interimRow = interim ? undefined : await auditRowByKey(tx, effectKey(caseId, effect, 'interim'));
          const prior = interimRow ? interimRow.prior : current;
          const written = await appendAudit(tx, { caseId, actorId: input.moderatorId, action: `${interim ? 'interim' : 'effect'}:${effect.kind}`, detail: { ...effect, ...detail }, prior, key });
          if (written && interimRow) {
            await appendAudit(tx, { caseId, actorId: input.moderatorId, action: `interim_superseded:${effect.kind}`, detail: { ...effect }, key: effectKey(caseId, effect, 'interim-lift') });
          }
          return written;
        };
        switch (effect.kind) {
          case 'ban':
          case 'suspend': {
            const user = await tx.selectFrom('users').select(['status', 'suspended_until']).where('id', '=', effect.userId).forUpdate().executeTakeFirstOrThrow();
            const until = effect.kind === 'suspend' ? new Date(Date.now() + effect.durationSeconds * 1000) : null;
            if (!(await audit({ status: user.status, suspendedUntil: user.suspended_until?.toISOString() ?? null }, until ? { suspendedUntil: until.toISOString() } : {}))) return;
            const change = effect.kind === 'ban' ? { status: 'banned' as const, suspended_until: null } : { status: 'suspended' as const, suspended_until: until };
            // A ban is never softened into a suspension, nor a longer suspension shortened.
            if (effect.kind === 'suspend' && user.status === 'banned') return;
            if (effect.kind === 'suspend' && user.status === 'suspended' && (user.suspended_until === null || user.suspended_until >= until!)) return;
            await tx.updateTable('users').set({ ...change, updated_at: new Date() }).where('id', '=', effect.userId).execute();
            return;
          }
          case 'hide_video': {
            const video = await tx.selectFrom('videos').select('moderation_hidden_at').where('id', '=', effect.videoId).forUpdate().executeTakeFirst();
            if (!(await audit({ hiddenAt: video?.moderation_hidden_at?.toISOString() ?? null }))) return;
            await tx.updateTable('videos').set({ moderation_hidden_at: new Date(), updated_at: new Date() }).where('id', '=', effect.videoId).where('moderation_hidden_at', 'is', null).execute();
            return;
          }
          case 'hide_comment': {
            const comment = await tx.selectFrom('comments').select('moderation_hidden_at').where('id', '=', effect.commentId).executeTakeFirst();
            if (!(await audit({ hiddenAt: comment?.moderation_hidden_at?.toISOString() ?? null }))) return;
            if (comment && !comment.moderation_hidden_at) await setCommentHidden(tx, effect.commentId, new Date());
            return;
          }
          case 'age_restrict': {
            const table = effect.targetType === 'video' ? 'videos' : 'streams';
            const row = await tx.selectFrom(table).select('age_restricted_at').where('id', '=', effect.targetId).forUpdate().executeTakeFirst();
            if (!(await audit({ ageRestrictedAt: row?.age_restricted_at?.toISOString() ?? null }))) return;
            await tx.updateTable(table).set({ age_restricted_at: new Date(), updated_at: new Date() }).where('id', '=', effect.targetId).where('age_restricted_at', 'is', null).execute();
            return;
          }
          case 'strike': {
            if (!(await audit(null, { strikeSeconds: input.strikeSeconds }))) return;
            await tx.insertInto('strikes').values({ user_id: effect.userId, case_id: caseId, rule: input.rule, expires_at: new Date(Date.now() + input.strikeSeconds * 1000), expired_at: null, removed_at: null }).execute();
            return;
          }
          case 'payout_hold': {
            if (!(await audit(null))) return;
            // The case's own hold: an admin's hold on the same creator is another, untouched.
            await setPayoutHold(tx, { userId: effect.userId, reason: `moderation:${caseId}`, setBy: input.moderatorId, source: caseHoldSource(caseId) });
            return;
          }
          default:
            await audit(null);
        }
      });
      // Outside Postgres, repeated harmlessly on a retry.
      switch (effect.kind) {
        case 'ban':
          publishSignOut(nats, { userId: effect.userId, reason: 'account_banned' });
          break;
        case 'suspend': {
          publishSignOut(nats, { userId: effect.userId, reason: 'account_suspended' });
          // When this case's suspension ends (its audit row is the one this case wrote): the workflow's timer.
          const applied = await auditRowByKey(db, key);
          const detail = (applied?.detail ?? {}) as { suspendedUntil?: string };
          return { endsAt: detail.suspendedUntil ?? null };
        }
        case 'end_stream':
          await endStream(effect.streamId);
          break;
        case 'end_live_streams': {
          const live = await db.selectFrom('streams').select('id').where('owner_id', '=', effect.userId).where('status', 'in', ['live', 'reconnecting']).execute();
          for (const stream of live) await endStream(stream.id);
          break;
        }
        case 'delete_chat_message':
          await publishChatEvent(nats, { kind: 'deleted', streamId: effect.streamId, messageId: String(effect.seq), deletedBy: actor, deletedAt: new Date().toISOString() }, `delete:${effect.streamId}:${effect.seq}`);
          break;
        case 'strike': {
          const { count } = await db.selectFrom('strikes').select((eb) => eb.fn.countAll<string>().as('count')).where('user_id', '=', effect.userId).where('expired_at', 'is', null).where('removed_at', 'is', null).executeTakeFirstOrThrow();
          if (Number(count) >= STRIKES_FOR_TERMINATION) {
            await notifyRecipients(
              db,
              nats,
              activityTemporal(),
              { id: `termination_proposed:${caseId}`, type: 'moderation_escalation', actorId: null, entityType: 'user', entityId: effect.userId, payload: { caseId, userId: effect.userId, activeStrikes: Number(count), proposal: 'terminate' } },
              sql`select id as recipient_id from users where role = 'admin' and status = 'active'`,
            );
          }
          break;
        }
      }
      return { endsAt: null };
    },

    /** Undoes one effect exactly (a decision's on appeal; `phase: 'interim'`, an interim measure's once decided), from the prior state its audit row kept. */
    async reverseEffect(input: { caseId: string; effect: Effect; moderatorId: string; phase?: 'interim' }): Promise<void> {
      const { caseId, effect } = input;
      const interim = input.phase === 'interim';
      await db.transaction().execute(async (tx) => {
        const applied = await auditRowByKey(tx, effectKey(caseId, effect, interim ? 'interim' : 'apply'));
        if (!applied) return;
        const written = await appendAudit(tx, {
          caseId,
          actorId: input.moderatorId,
          action: `${interim ? 'interim_lifted' : 'reversed'}:${effect.kind}`,
          detail: { ...effect },
          key: effectKey(caseId, effect, interim ? 'interim-lift' : 'reverse'),
        });
        if (!written) return;
        const prior = (applied.prior ?? {}) as { status?: 'active' | 'suspended' | 'banned'; suspendedUntil?: string | null };
        switch (effect.kind) {
          case 'ban':
          case 'suspend': {
            // Only what this case set: a later, separate sanction stays (another case's ban, or a
            // suspension whose end is not the one this case wrote).
            if (effect.kind === 'ban' && (await otherCaseStillBans(tx, caseId, effect.userId))) return;
            const setUntil = (applied.detail as { suspendedUntil?: string }).suspendedUntil;
            let query = tx
              .updateTable('users')
              .set({ status: prior.status ?? 'active', suspended_until: prior.suspendedUntil ? new Date(prior.suspendedUntil) : null, updated_at: new Date() })
              .where('id', '=', effect.userId)
              .where('status', '=', effect.kind === 'ban' ? 'banned' : 'suspended');
            if (effect.kind === 'suspend') query = query.where('suspended_until', '=', setUntil ? new Date(setUntil) : new Date(0));
            await query.execute();
            return;
          }
          case 'hide_video': {
            // Back to what it was: hidden still when another decision had hidden it before this one.
            const hiddenBefore = (applied.prior as { hiddenAt?: string | null } | null)?.hiddenAt;
            await tx.updateTable('videos').set({ moderation_hidden_at: hiddenBefore ? new Date(hiddenBefore) : null, updated_at: new Date() }).where('id', '=', effect.videoId).execute();
            return;
          }
          case 'hide_comment': {
            const hiddenBefore = (applied.prior as { hiddenAt?: string | null } | null)?.hiddenAt;
            await setCommentHidden(tx, effect.commentId, hiddenBefore ? new Date(hiddenBefore) : null);
            return;
          }
          case 'age_restrict': {
            const before = (applied.prior as { ageRestrictedAt?: string | null } | null)?.ageRestrictedAt;
            await tx
              .updateTable(effect.targetType === 'video' ? 'videos' : 'streams')
              .set({ age_restricted_at: before ? new Date(before) : null, updated_at: new Date() })
              .where('id', '=', effect.targetId)
              .execute();
            return;
          }
          case 'strike':
            await tx.updateTable('strikes').set({ removed_at: new Date() }).where('case_id', '=', caseId).where('removed_at', 'is', null).execute();
            return;
          case 'payout_hold':
            await liftPayoutHold(tx, { userId: effect.userId, liftedBy: input.moderatorId, source: caseHoldSource(caseId) });
            return;
          case 'delete_chat_message':
            // The archive shows it again; viewers connected at the time already dropped it.
            await deps.mongo.db.collection<{ _id: string }>('chat_messages').updateOne({ _id: `${effect.streamId}:${effect.seq}` }, { $unset: { deletedAt: '', deletedBy: '' } });
            return;
        }
      });
    },

    /** A suspension's end, by the case's durable timer. Leaves a ban or a later, longer suspension alone. */
    async liftSuspension(input: { caseId: string; userId: string; suspendedUntil?: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        if (!(await appendAudit(tx, { caseId: input.caseId, actorId: null, action: 'suspension_lifted', detail: { userId: input.userId }, key: `${input.caseId}:lift:suspend:${input.userId}` }))) return;
        await tx
          .updateTable('users')
          .set({ status: 'active', suspended_until: null, updated_at: new Date() })
          .where('id', '=', input.userId)
          .where('status', '=', 'suspended')
          // Only the suspension this case set: a later, longer one stays.
          .where(input.suspendedUntil ? sql<boolean>`suspended_until = ${new Date(input.suspendedUntil)}` : sql<boolean>`suspended_until <= now() + interval '5 seconds'`)
          .execute();
      });
    },

    async expireStrike(input: { caseId: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        if (!(await appendAudit(tx, { caseId: input.caseId, actorId: null, action: 'strike_expired', key: `${input.caseId}:expire:strike` }))) return;
        await tx.updateTable('strikes').set({ expired_at: new Date() }).where('case_id', '=', input.caseId).where('expired_at', 'is', null).where('removed_at', 'is', null).execute();
      });
    },

    /** The statement of reasons to the affected user, and the outcome to every reporter. */
    async notifyDecision(input: { caseId: string; appealDeadline: string | null }): Promise<void> {
      const row = await caseRow(input.caseId);
      const decision = row.decision as unknown as Decision;
      const common = { caseId: row.id, targetType: row.target_type, targetId: row.target_id, action: decision.action, rule: decision.rule };
      if (row.target_owner_id && decision.action !== 'dismiss') {
        await notifyRecipients(
          db,
          nats,
          activityTemporal(),
          {
            id: `moderation_decision:${row.id}`,
            type: 'moderation_decision',
            actorId: null,
            entityType: 'moderation_case',
            entityId: row.id,
            payload: { ...common, note: decision.note, durationSeconds: decision.durationSeconds ?? null, appealUntil: input.appealDeadline, appealPath: `/api/v1/moderation/cases/${row.id}/appeal` },
          },
          sql`select ${row.target_owner_id}::uuid as recipient_id`,
        );
      }
      await notifyRecipients(
        db,
        nats,
        activityTemporal(),
        { id: `report_outcome:${row.id}`, type: 'report_outcome', actorId: null, entityType: 'moderation_case', entityId: row.id, payload: { ...common, outcome: decision.action === 'dismiss' ? 'no_action' : 'action_taken' } },
        sql`select reporter_id as recipient_id from reports where case_id = ${row.id}`,
      );
    },

    async recordAppeal(input: { caseId: string; userId: string; message: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('appeals').values({ case_id: input.caseId, user_id: input.userId, message: input.message, decided_by: null, decided_at: null, upheld: null, note: null }).onConflict((oc) => oc.column('case_id').doNothing()).execute();
        await tx.updateTable('moderation_cases').set({ status: 'appealed', updated_at: new Date() }).where('id', '=', input.caseId).execute();
        await appendAudit(tx, { caseId: input.caseId, actorId: input.userId, action: 'appealed', detail: { message: input.message }, key: `${input.caseId}:appeal` });
      });
    },

    async recordAppealRuling(input: { caseId: string; moderatorId: string; upheld: boolean; note: string }): Promise<void> {
      if (await isReporter(db, input.caseId, input.moderatorId)) throw refuse('Conflict', 'A moderator may not review a case they reported (own_report)');
      await db.transaction().execute(async (tx) => {
        const written = await appendAudit(tx, { caseId: input.caseId, actorId: input.moderatorId, action: input.upheld ? 'appeal_upheld' : 'appeal_rejected', detail: { note: input.note }, key: `${input.caseId}:appeal-ruling` });
        if (written) await tx.updateTable('appeals').set({ decided_by: input.moderatorId, decided_at: new Date(), upheld: input.upheld, note: input.note }).where('case_id', '=', input.caseId).execute();
      });
    },

    async notifyAppealRuling(input: { caseId: string }): Promise<void> {
      const appeal = await db.selectFrom('appeals').selectAll().where('case_id', '=', input.caseId).executeTakeFirstOrThrow();
      await notifyRecipients(
        db,
        nats,
        activityTemporal(),
        { id: `appeal_outcome:${input.caseId}`, type: 'appeal_outcome', actorId: null, entityType: 'moderation_case', entityId: input.caseId, payload: { caseId: input.caseId, upheld: appeal.upheld, note: appeal.note } },
        sql`select ${appeal.user_id}::uuid as recipient_id`,
      );
    },

    async closeCase(input: { caseId: string }): Promise<void> {
      await db.transaction().execute(async (tx) => {
        if (!(await appendAudit(tx, { caseId: input.caseId, actorId: null, action: 'closed', key: `${input.caseId}:closed` }))) return;
        await tx.updateTable('moderation_cases').set({ status: 'closed', closed_at: new Date(), updated_at: new Date() }).where('id', '=', input.caseId).execute();
      });
    },
  };
}

export type ModerationActivities = ReturnType<typeof createModerationActivities>;
