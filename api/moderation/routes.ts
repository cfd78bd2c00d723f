import { createRoute, z } from '@hono/zod-openapi';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import type { ModerationConfig } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { casePhases, casePriority, decisionActions, policyRules, priorities, reportReasons, targetIdPatterns, targetTypes, type TargetType } from '../../workflows/plans/moderation.ts';
import { fileReport, trustedReporter } from '../../lib/moderation/store.ts';
import type { Mongo } from '../../lib/mongo.ts';
import type { Nats } from '../../lib/nats.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { appealUpdate, claimUpdate, decideUpdate, reportSignal, ruleOnAppealUpdate, type ModerationCaseInput, type moderationCaseWorkflow, type ReportSignal } from '../../workflows/moderation.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { currentUser, requireRole, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { caseParam, publicCaseSchema, publicCaseView, readsAsStaff, visibleToAffectedUser } from './appeals.ts';
import { resolveTarget } from './targets.ts';

export interface ModerationRouteDeps {
  db: Db;
  mongo: Mongo;
  nats: Nats;
  temporal: Temporal;
  config: ModerationConfig;
}

const reviewers = { security: [{ bearerAuth: [] }], middleware: [requireRole('moderator', 'admin')] };

const reportBodySchema = z
  .object({
    targetType: z.enum(targetTypes),
    targetId: z.string().max(64).openapi({ description: 'A uuid; a chat message is `<streamId>.<messageId>`' }),
    reason: z.enum(reportReasons),
    details: z.string().max(2000).optional(),
    timestampSeconds: z.number().int().min(0).max(86_400).optional().openapi({ description: 'Where in a video (videos only)' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (!targetIdPatterns[body.targetType].test(body.targetId)) ctx.addIssue({ code: 'custom', path: ['targetId'], message: `not a ${body.targetType} id` });
    if (body.timestampSeconds !== undefined && body.targetType !== 'video') ctx.addIssue({ code: 'custom', path: ['timestampSeconds'], message: 'only for videos' });
  });


const caseSchema = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    targetType: z.enum(targetTypes),
    targetId: z.string(),
    targetOwnerId: z.uuid().nullable(),
    status: z.enum(casePhases),
    priority: z.enum(priorities),
    reportCount: z.number().int(),
    claimedBy: z.uuid().nullable(),
    claimExpiresAt: z.string().nullable(),
    decision: z.record(z.string(), z.unknown()).nullable(),
    decidedBy: z.uuid().nullable(),
    slaDueAt: z.string().nullable(),
    escalations: z.number().int(),
    createdAt: z.string(),
  })
  .openapi('ModerationCase');

interface CaseRow {
  id: string;
  target_type: TargetType;
  target_id: string;
  target_owner_id: string | null;
  status: (typeof casePhases)[number];
  priority: (typeof priorities)[number];
  report_count: number;
  claimed_by: string | null;
  claim_expires_at: Date | null;
  decision: Record<string, unknown> | null;
  decided_by: string | null;
  sla_due_at: Date | null;
  escalations: number;
  created_at: Date;
}
const caseView = (r: CaseRow) => ({
  id: r.id,
  workflowId: workflowIds.moderation(r.id),
  targetType: r.target_type,
  targetId: r.target_id,
  targetOwnerId: r.target_owner_id,
  status: r.status,
  priority: r.priority,
  reportCount: r.report_count,
  claimedBy: r.claimed_by,
  claimExpiresAt: r.claim_expires_at?.toISOString() ?? null,
  decision: r.decision,
  decidedBy: r.decided_by,
  slaDueAt: r.sla_due_at?.toISOString() ?? null,
  escalations: r.escalations,
  createdAt: r.created_at.toISOString(),
});

const queueCursorSchema = z.object({ rank: z.number().int(), at: z.string().max(40), id: z.string().max(200) });

/** The workflow's refusal (validator or activity), as the API's error; anything else stays internal. */
function asAppError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return new AppError('conflict', 'This case is no longer open for that');
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  let cause: unknown = err.cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
  if (!(cause instanceof ApplicationFailure)) return err;
  if (cause.type === 'Forbidden' || cause.type === 'Conflict') return new AppError('forbidden', cause.message, { reason: cause.type });
  if (cause.type === 'Invalid') return new AppError('validation_failed', cause.message, { reason: cause.type });
  return new AppError('conflict', cause.message, { reason: cause.type });
}

/** `POST /reports`: anyone signed in reports a stream, video, chat message or user. */
export function reportRoutes(deps: ModerationRouteDeps) {
  const { db, temporal, config } = deps;
  const router = createRouter();
  const perReporter = rateLimit(db, { name: 'reports', limit: config.reportsPerHour, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['moderation'],
      summary: 'Report something; reports on one target join one open case (`moderation/<caseId>`)',
      ...signedIn,
      middleware: [...signedIn.middleware, perReporter],
      request: { body: jsonBody(reportBodySchema) },
      responses: {
        201: enveloped(z.object({ reportId: z.uuid(), caseId: z.string(), duplicate: z.boolean() }), 'Filed (or, `duplicate`, already filed by this reporter on this case)'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Reporting yourself or your own content', 404: 'No such target', 409: 'The case was closing; report again', 429: 'Too many reports' }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const reporter = currentUser(c);
      const target = await resolveTarget(deps, body.targetType, body.targetId);
      if (target.ownerId === reporter.userId) throw new AppError('forbidden', 'You cannot report yourself or your own content', { reason: 'self_report' });
      const priority = casePriority({ liveTarget: target.live, reasons: [body.reason], reportCount: 1 });
      const trusted = body.reason === 'minor_safety' ? await trustedReporter(db, reporter.userId, config.interimReporterMinAgeHours) : undefined;
      const filed = await fileReport(db, {
        reporterId: reporter.userId,
        targetType: body.targetType,
        targetId: body.targetId,
        targetOwnerId: target.ownerId,
        reason: body.reason,
        details: body.details ?? '',
        timestampSeconds: body.timestampSeconds ?? null,
        priority,
        snapshot: target.snapshot,
      });
      const input: ModerationCaseInput = {
        caseId: filed.caseId,
        targetType: body.targetType as TargetType,
        targetId: body.targetId,
        targetOwnerId: target.ownerId,
        liveTarget: target.live,
        timings: { slaSeconds: config.slaSeconds, claimSeconds: config.claimSeconds, appealWindowSeconds: config.appealWindowSeconds, strikeSeconds: config.strikeSeconds },
      };
      try {
        // The report row is committed first; a repeated request (same reporter) signals again harmlessly.
        await temporal.client.workflow.signalWithStart<typeof moderationCaseWorkflow, [ReportSignal]>('moderationCaseWorkflow', {
          workflowId: workflowIds.moderation(filed.caseId),
          taskQueue: temporal.taskQueue,
          args: [input],
          signal: reportSignal,
          signalArgs: [{ reportId: filed.reportId, reason: body.reason, reportCount: filed.reportCount, ...(trusted === undefined ? {} : { trusted }) }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: searchAttributes.Phase, value: 'open' },
            { key: searchAttributes.TargetId, value: `${body.targetType}:${body.targetId}` },
          ],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new AppError('conflict', 'That case has just closed; report again to open a new one');
        throw err;
      }
      return c.json(ok({ reportId: filed.reportId, caseId: filed.caseId, duplicate: filed.duplicate }), 201);
    },
  );
  return router;
}

/** `/moderation/cases…`: the review queue, a case with its evidence and history, claims, decisions, appeals. */
export function moderationRoutes(deps: ModerationRouteDeps) {
  const { db, temporal } = deps;
  const router = createRouter();
  const handleOf = (caseId: string) => temporal.client.workflow.getHandle(workflowIds.moderation(caseId));
  const loadCase = async (id: string) => {
    const row = await db.selectFrom('moderation_cases').select(['id', 'status', 'target_owner_id']).where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No such case');
    return row;
  };
  const runUpdate = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw asAppError(err);
    }
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/cases',
      tags: ['moderation'],
      summary: 'The review queue: most urgent first, then oldest (moderator, admin)',
      ...reviewers,
      request: {
        query: pageQuerySchema.extend({
          status: z.enum(casePhases).optional().openapi({ description: 'Default: every case not closed' }),
          priority: z.enum(priorities).optional(),
          targetType: z.enum(targetTypes).optional(),
        }),
      },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(caseSchema) } } }, ...errorResponses({ 400: 'Invalid filter or cursor', 401: 'Not signed in', 403: 'Not a moderator or admin' }) },
    }),
    async (c) => {
      const { limit, cursor, status, priority, targetType } = c.req.valid('query');
      const me = currentUser(c);
      const after = decodeCursor(cursor, queueCursorSchema);
      let query = db
        .selectFrom('moderation_cases')
        .select(['id', 'target_type', 'target_id', 'target_owner_id', 'status', 'priority', 'priority_rank', 'report_count', 'claimed_by', 'claim_expires_at', 'decision', 'decided_by', 'sla_due_at', 'escalations', 'created_at', 'snapshot'])
        .select(sql<string>`created_at::text`.as('created_at_key'));
      query = status ? query.where('status', '=', status) : query.where('status', '<>', 'closed');
      if (priority) query = query.where('priority', '=', priority);
      if (targetType) query = query.where('target_type', '=', targetType);
      // A moderator never sees cases about themselves or their content; admins see every case.
      if (me.role !== 'admin') query = query.where((eb) => eb.or([eb('target_owner_id', 'is', null), eb('target_owner_id', '<>', me.userId)]));
      if (after) query = query.where(sql<boolean>`(priority_rank, created_at, id) > (${after.rank}, ${after.at}::timestamptz, ${after.id})`);
      const rows = await query.orderBy('priority_rank').orderBy('created_at').orderBy('id').limit(limit + 1).execute();
      return c.json(page(rows, limit, caseView, (r) => ({ rank: r.priority_rank, at: r.created_at_key, id: r.id })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/cases/{id}',
      tags: ['moderation'],
      summary: 'A case: for moderators and admins the target as reported (evidence), its reports, appeal and full audit history; for the affected user the decision about them',
      description:
        'Moderators never read a case about themselves or their content in full: like any affected user, they get the public part once it is decided (`ModerationCaseForAffectedUser`: the statement of reasons, the appeal deadline, the appeal and its ruling). A restricted session (suspended or banned) reads only that part.',
      ...signedIn,
      request: { params: caseParam },
      responses: {
        200: enveloped(
          z.union([
            caseSchema.extend({
              snapshot: z.record(z.string(), z.unknown()),
              reports: z.array(z.object({ id: z.uuid(), reporterId: z.uuid(), reason: z.string(), details: z.string(), timestampSeconds: z.number().int().nullable(), createdAt: z.string() })),
              signals: z.array(z.object({ id: z.string(), source: z.string(), reason: z.string(), score: z.number().int(), detail: z.unknown(), createdAt: z.string(), delivered: z.boolean() })).openapi({ description: 'Automatic signals (watched words), first 500' }),
              appeal: z.object({ userId: z.uuid(), message: z.string(), createdAt: z.string(), decidedBy: z.uuid().nullable(), upheld: z.boolean().nullable(), note: z.string().nullable() }).nullable(),
              history: z.array(z.object({ id: z.string(), actorId: z.uuid().nullable(), actorName: z.string(), action: z.string(), detail: z.unknown(), prior: z.unknown(), at: z.string() })),
            }),
            publicCaseSchema,
          ]),
          'The case (staff), or its public part (the affected user)',
        ),
        ...errorResponses({ 401: 'Not signed in', 403: 'Neither staff nor the affected user', 404: 'No such case (or, for the affected user, not decided yet)' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const me = currentUser(c);
      const row = await db
        .selectFrom('moderation_cases')
        .select(['id', 'target_type', 'target_id', 'target_owner_id', 'status', 'priority', 'priority_rank', 'report_count', 'claimed_by', 'claim_expires_at', 'decision', 'decided_by', 'decided_at', 'sla_due_at', 'escalations', 'created_at', 'snapshot'])
        .select(sql<string>`created_at::text`.as('created_at_key'))
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', 'No such case');
      if (!readsAsStaff(me, row.target_owner_id)) {
        if (row.target_owner_id !== me.userId) throw new AppError('forbidden', 'Only moderators and admins read cases about others');
        if (!visibleToAffectedUser(row, me.userId)) throw new AppError('not_found', 'No such case');
        const appeal = await db.selectFrom('appeals').select(['message', 'created_at', 'upheld', 'note', 'decided_at']).where('case_id', '=', id).executeTakeFirst();
        return c.json(ok(publicCaseView(row, appeal, deps.config.appealWindowSeconds)), 200);
      }
      // The first 500 reports; `reportCount` has them all.
      const reports = await db.selectFrom('reports').selectAll().where('case_id', '=', id).orderBy('created_at').orderBy('id').limit(500).execute();
      const signals = await db.selectFrom('moderation_signals').selectAll().where('case_id', '=', id).orderBy('id').limit(500).execute();
      const appeal = await db.selectFrom('appeals').selectAll().where('case_id', '=', id).executeTakeFirst();
      const history = await db.selectFrom('moderation_audit').selectAll().where('case_id', '=', id).orderBy('id').execute();
      return c.json(
        ok({
          ...caseView(row),
          snapshot: row.snapshot,
          reports: reports.map((r) => ({ id: r.id, reporterId: r.reporter_id, reason: r.reason, details: r.details, timestampSeconds: r.timestamp_seconds, createdAt: r.created_at.toISOString() })),
          signals: signals.map((s) => ({ id: String(s.id), source: s.source, reason: s.reason, score: s.score, detail: s.detail, createdAt: s.created_at.toISOString(), delivered: s.delivered_at !== null })),
          appeal: appeal ? { userId: appeal.user_id, message: appeal.message, createdAt: appeal.created_at.toISOString(), decidedBy: appeal.decided_by, upheld: appeal.upheld, note: appeal.note } : null,
          history: history.map((h) => ({ id: String(h.id), actorId: h.actor_id, actorName: h.actor_name, action: h.action, detail: h.detail, prior: h.prior, at: h.created_at.toISOString() })),
        }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/cases/{id}/claim',
      tags: ['moderation'],
      summary: 'Claim a case for review: one moderator at a time, for MODERATION_CLAIM_SECONDS (moderator, admin)',
      ...reviewers,
      request: { params: caseParam },
      responses: {
        200: enveloped(z.object({ claimedUntil: z.string() }), 'Claimed (or the claim renewed)'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not a moderator, or your own report, content or account', 404: 'No such case', 409: 'Claimed by another moderator, or no longer open' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const me = currentUser(c);
      await loadCase(id);
      const result = await runUpdate(() => handleOf(id).executeUpdate(claimUpdate, { args: [{ moderatorId: me.userId, role: me.role }] }));
      return c.json(ok(result), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/cases/{id}/decision',
      tags: ['moderation'],
      summary: 'Decide a case you claimed; its effects are applied at once, each exactly once (moderator, admin)',
      ...reviewers,
      request: {
        params: caseParam,
        body: jsonBody(
          z
            .object({
              action: z.enum(decisionActions),
              rule: z.enum(policyRules).openapi({ description: 'The policy the decision rests on (the statement of reasons names it)' }),
              note: z.string().max(2000).default(''),
              durationSeconds: z.number().int().min(1).max(10 * 365 * 86_400).optional().openapi({ description: 'Required for `suspend`' }),
            })
            .strict()
            .refine((b) => b.action !== 'suspend' || b.durationSeconds !== undefined, { path: ['durationSeconds'], message: 'required for suspend' }),
        ),
      },
      responses: {
        200: enveloped(z.object({ effects: z.array(z.record(z.string(), z.unknown())) }), 'Decided; the effects it applies'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not a moderator, or your own report, content or account', 404: 'No such case', 409: 'Not claimed by you, or already decided' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const me = currentUser(c);
      const target = await loadCase(id);
      // Staff answer to admins: a moderator may only dismiss a case about a moderator's or admin's account or content.
      if (body.action !== 'dismiss' && me.role !== 'admin' && target.target_owner_id) {
        const owner = await db.selectFrom('users').select('role').where('id', '=', target.target_owner_id).executeTakeFirst();
        if (owner && (owner.role === 'moderator' || owner.role === 'admin')) throw new AppError('forbidden', 'Only an admin may act against a moderator or an admin');
      }
      const result = await runUpdate(() => handleOf(id).executeUpdate(decideUpdate, { args: [{ moderatorId: me.userId, role: me.role, ...body }] }));
      return c.json(ok(result), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/cases/{id}/appeal',
      tags: ['moderation'],
      summary: 'Appeal a decision about you or your content, within MODERATION_APPEAL_WINDOW_DAYS (the affected user)',
      ...signedIn,
      request: { params: caseParam, body: jsonBody(z.object({ message: z.string().min(1).max(2000) }).strict()) },
      responses: {
        202: enveloped(z.object({ appealDeadline: z.string() }), 'Appealed: a different moderator will rule on it'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not the affected user', 404: 'No such case', 409: 'Nothing to appeal, already appealed, or the window closed' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { message } = c.req.valid('json');
      const me = currentUser(c);
      const row = await loadCase(id);
      if (row.target_owner_id !== me.userId) throw new AppError('forbidden', 'Only the affected user may appeal');
      const result = await runUpdate(() => handleOf(id).executeUpdate(appealUpdate, { args: [{ userId: me.userId, message }] }));
      return c.json(ok(result), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/cases/{id}/appeal/decision',
      tags: ['moderation'],
      summary: 'Rule on an appeal (a moderator other than the one who decided); upheld reverses every effect (moderator, admin)',
      ...reviewers,
      request: {
        params: caseParam,
        body: jsonBody(
          z
            .object({ upheld: z.boolean(), note: z.string().trim().max(2000).default('').openapi({ description: 'Why; required to reject (the appellant is told)' }) })
            .strict()
            .refine((b) => b.upheld || b.note.length > 0, { path: ['note'], message: 'required to reject an appeal: the user is told why' }),
        ),
      },
      responses: {
        200: enveloped(z.object({ upheld: z.boolean(), reversed: z.array(z.record(z.string(), z.unknown())) }), 'Ruled'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not a moderator, the original reviewer, or your own case', 404: 'No such case', 409: 'No appeal pending' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const me = currentUser(c);
      await loadCase(id);
      const result = await runUpdate(() => handleOf(id).executeUpdate(ruleOnAppealUpdate, { args: [{ moderatorId: me.userId, role: me.role, ...body }] }));
      return c.json(ok(result), 200);
    },
  );

  return router;
}
