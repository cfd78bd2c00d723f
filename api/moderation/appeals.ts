import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { appendAudit, isReporter, notifyRecipients } from '../../lib/moderation/store.ts';
import type { Nats } from '../../lib/nats.ts';
import type { WorkflowStarter } from '../../lib/notifications.ts';
import { caseIdPattern, reviewConflict, targetTypes } from '../../workflows/plans/moderation.ts';
import type { AuthContext } from '../context.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';

// What the affected user sees of the decisions about them (the statement of reasons, their
// appeal and its ruling; never the reporters, the evidence file or the reviewers), and the
// appeal's message thread between the appellant and the reviewing moderators.

export const caseParam = z.object({ id: z.string().regex(caseIdPattern).openapi({ param: { name: 'id', in: 'path' }, example: 'video-0f8fad5b-d9cb-469f-a165-70867728950e-1' }) });

export const publicCaseSchema = z
  .object({
    id: z.string(),
    targetType: z.enum(targetTypes),
    targetId: z.string(),
    status: z.string(),
    decision: z.object({ action: z.string(), rule: z.string(), note: z.string(), durationSeconds: z.number().int().nullable() }),
    decidedAt: z.string(),
    appealDeadline: z.string(),
    appeal: z
      .object({ message: z.string(), createdAt: z.string(), upheld: z.boolean().nullable(), note: z.string().nullable().openapi({ description: 'Why the appeal was upheld or rejected' }), decidedAt: z.string().nullable() })
      .nullable(),
  })
  .openapi('ModerationCaseForAffectedUser');

interface PublicCaseRow {
  id: string;
  target_type: (typeof targetTypes)[number];
  target_id: string;
  status: string;
  decision: Record<string, unknown> | null;
  decided_at: Date | null;
}
interface AppealRow {
  message: string;
  created_at: Date;
  upheld: boolean | null;
  note: string | null;
  decided_at: Date | null;
}

export function publicCaseView(row: PublicCaseRow, appeal: AppealRow | undefined, appealWindowSeconds: number): z.infer<typeof publicCaseSchema> {
  const decision = (row.decision ?? {}) as { action?: string; rule?: string; note?: string; durationSeconds?: number };
  const decidedAt = row.decided_at ?? new Date(0);
  return {
    id: row.id,
    targetType: row.target_type,
    targetId: row.target_id,
    status: row.status,
    decision: { action: decision.action ?? '', rule: decision.rule ?? '', note: decision.note ?? '', durationSeconds: decision.durationSeconds ?? null },
    decidedAt: decidedAt.toISOString(),
    appealDeadline: new Date(decidedAt.getTime() + appealWindowSeconds * 1000).toISOString(),
    appeal: appeal
      ? { message: appeal.message, createdAt: appeal.created_at.toISOString(), upheld: appeal.upheld, note: appeal.note, decidedAt: appeal.decided_at?.toISOString() ?? null }
      : null,
  };
}

/** A case the affected user may read: one decided about them with more than a dismissal. */
export const visibleToAffectedUser = (row: { target_owner_id: string | null; decided_at: Date | null; decision: Record<string, unknown> | null }, userId: string) =>
  row.target_owner_id === userId && row.decided_at !== null && row.decision?.action !== 'dismiss';

/** Staff read a case in full: moderators and admins with a full session, never a moderator about themselves or their content. */
export const readsAsStaff = (auth: AuthContext, targetOwnerId: string | null) =>
  auth.scope === 'full' && (auth.role === 'admin' || (auth.role === 'moderator' && targetOwnerId !== auth.userId));

const caseListCursorSchema = z.object({ at: timeKeyCursorSchema.shape.at, id: z.string().max(200) });

const messageSchema = z
  .object({
    id: z.uuid(),
    authorRole: z.enum(['appellant', 'moderator']),
    authorId: z.uuid().nullable().openapi({ description: 'Shown to staff; null for the appellant reading a moderator’s message' }),
    body: z.string(),
    createdAt: z.string(),
  })
  .openapi('AppealMessage');

export function appealRoutes(deps: { db: Db; nats: Nats; temporal: WorkflowStarter; appealWindowSeconds: number }) {
  const { db, nats } = deps;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/my-cases',
      tags: ['moderation'],
      summary: 'Decisions about you or your content, newest first: the statement of reasons, the appeal deadline, your appeal and its ruling (also with a restricted session)',
      ...signedIn,
      request: { query: pageQuerySchema },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(publicCaseSchema) } } }, ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in' }) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const me = currentUser(c);
      const after = decodeCursor(cursor, caseListCursorSchema);
      let query = db
        .selectFrom('moderation_cases as m')
        .leftJoin('appeals as a', 'a.case_id', 'm.id')
        .select(['m.id', 'm.target_type', 'm.target_id', 'm.status', 'm.decision', 'm.decided_at'])
        .select(['a.message', 'a.created_at', 'a.upheld', 'a.note', 'a.decided_at as appeal_decided_at'])
        .select(sql<string>`m.decided_at::text`.as('decided_key'))
        .where('m.target_owner_id', '=', me.userId)
        .where('m.decided_at', 'is not', null)
        .where(sql<boolean>`m.decision->>'action' <> 'dismiss'`);
      if (after) query = query.where(sql<boolean>`(m.decided_at, m.id) < (${after.at}::timestamptz, ${after.id})`);
      const rows = await query.orderBy('m.decided_at', 'desc').orderBy('m.id', 'desc').limit(limit + 1).execute();
      return c.json(
        page(
          rows,
          limit,
          (r) => publicCaseView(r, r.message === null ? undefined : { message: r.message, created_at: r.created_at!, upheld: r.upheld, note: r.note, decided_at: r.appeal_decided_at }, deps.appealWindowSeconds),
          (r) => ({ at: r.decided_key, id: r.id }),
        ),
        200,
      );
    },
  );

  /** Who `me` is in this case's appeal thread, or a refusal. */
  const threadRole = async (caseId: string, me: AuthContext) => {
    const row = await db.selectFrom('moderation_cases').select(['target_owner_id', 'decided_by', 'decided_at', 'decision']).where('id', '=', caseId).executeTakeFirst();
    if (!row) throw new AppError('not_found', 'No such case');
    const appeal = await db.selectFrom('appeals').select(['decided_at']).where('case_id', '=', caseId).executeTakeFirst();
    if (row.target_owner_id === me.userId) {
      if (!visibleToAffectedUser(row, me.userId)) throw new AppError('not_found', 'No such case');
      return { role: 'appellant' as const, ownerId: row.target_owner_id, appeal };
    }
    if (!readsAsStaff(me, row.target_owner_id)) throw new AppError('forbidden', 'Only the appellant and moderators take part in an appeal');
    return { role: 'moderator' as const, ownerId: row.target_owner_id, decidedBy: row.decided_by, appeal };
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/cases/{id}/appeal/messages',
      tags: ['moderation'],
      summary: 'The appeal’s message thread, oldest first (the appellant, moderators and admins)',
      ...signedIn,
      request: { params: caseParam, query: pageQuerySchema },
      responses: {
        200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(messageSchema) } } },
        ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not the appellant or staff', 404: 'No such case' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const me = currentUser(c);
      const { role } = await threadRole(id, me);
      const after = decodeCursor(cursor, timeKeyCursorSchema);
      let query = db
        .selectFrom('appeal_messages')
        .select(['id', 'author_id', 'author_role', 'body', 'created_at'])
        .select(sql<string>`created_at::text`.as('created_key'))
        .where('case_id', '=', id);
      if (after) query = query.where(sql<boolean>`(created_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)`);
      const rows = await query.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
      return c.json(
        page(
          rows,
          limit,
          (m) => ({ id: m.id, authorRole: m.author_role, authorId: role === 'moderator' || m.author_role === 'appellant' ? m.author_id : null, body: m.body, createdAt: m.created_at.toISOString() }),
          (m) => ({ at: m.created_key, id: m.id }),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/cases/{id}/appeal/messages',
      tags: ['moderation'],
      summary: 'Write in a pending appeal’s thread: the appellant, or a moderator who may rule on it; the other side is notified (`appeal_message`)',
      description: 'Send an `Idempotency-Key` header to make retries safe: the same key returns the same message (200).',
      ...signedIn,
      request: {
        params: caseParam,
        headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
        body: jsonBody(z.object({ message: z.string().trim().min(1).max(2000) }).strict()),
      },
      responses: {
        200: enveloped(messageSchema, 'The message an earlier request with this Idempotency-Key wrote'),
        201: enveloped(messageSchema, 'Written'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not the appellant, or a moderator who may not rule on this appeal', 404: 'No such case', 409: 'No appeal pending' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { message } = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'] ?? null;
      const me = currentUser(c);
      const thread = await threadRole(id, me);
      if (!thread.appeal || thread.appeal.decided_at) throw new AppError('conflict', thread.appeal ? 'The appeal has been ruled on' : 'This decision has not been appealed');
      if (thread.role === 'moderator') {
        const conflict = reviewConflict({ reviewerId: me.userId, targetOwnerId: thread.ownerId, decidedBy: thread.decidedBy, forAppeal: true }) ?? ((await isReporter(db, id, me.userId)) ? 'own_report' : undefined);
        if (conflict) throw new AppError('forbidden', `A moderator may not review this appeal (${conflict})`, { reason: 'Conflict' });
      }
      const written = await db.transaction().execute(async (tx) => {
        const inserted = await tx
          .insertInto('appeal_messages')
          .values({ case_id: id, author_id: me.userId, author_role: thread.role, body: message, idempotency_key: idempotencyKey })
          .onConflict((oc) => oc.columns(['case_id', 'author_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!inserted) {
          const earlier = await tx.selectFrom('appeal_messages').selectAll().where('case_id', '=', id).where('author_id', '=', me.userId).where('idempotency_key', '=', idempotencyKey).executeTakeFirstOrThrow();
          return { message: earlier, created: false };
        }
        await appendAudit(tx, { caseId: id, actorId: me.userId, action: 'appeal_message', detail: { messageId: inserted.id, authorRole: thread.role, body: message }, key: `${id}:appeal-message:${inserted.id}` });
        return { message: inserted, created: true };
      });
      const m = written.message;
      if (written.created) {
        // The other side: the appellant, or every moderator who has written in this thread
        // (before one has, the appeal waits in the queue as `appealed`).
        const recipients =
          thread.role === 'moderator'
            ? sql`select ${thread.ownerId}::uuid as recipient_id`
            : sql`select distinct author_id as recipient_id from appeal_messages where case_id = ${id} and author_role = 'moderator'`;
        await notifyRecipients(
          db,
          nats,
          deps.temporal,
          { id: `appeal_message:${m.id}`, type: 'appeal_message', actorId: null, entityType: 'moderation_case', entityId: id, payload: { caseId: id, messageId: m.id, from: thread.role, excerpt: m.body.slice(0, 200), path: `/api/v1/moderation/cases/${id}/appeal/messages` } },
          recipients,
        );
      }
      const view = { id: m.id, authorRole: m.author_role, authorId: m.author_id, body: m.body, createdAt: m.created_at.toISOString() };
      return written.created ? c.json(ok(view), 201) : c.json(ok(view), 200);
    },
  );

  return router;
}
