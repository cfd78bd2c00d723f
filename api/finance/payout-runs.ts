import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import type { Nats } from '../../lib/nats.ts';
import { pushNotifications, type StoredNotification } from '../../lib/notifications.ts';
import { AppError } from '../../lib/errors.ts';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import { parseBankStatus } from '../../lib/payouts/bank-status.ts';
import { getItem, listItems, markReversing, openRun, openRunOf, returnPaidItem, RunAlreadyOpenError, runTotals, settleItem, type PayoutItem, type RunTotals } from '../../lib/payouts/store.ts';
import { compactId } from '../../lib/payouts/pain001.ts';
import { headObject, presignGet, type Storage } from '../../lib/s3.ts';
import { payoutItemStatuses, payoutRunStatuses } from '../../lib/schema.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { approvePayoutRunUpdate, cancelPayoutRunUpdate, payoutRunProgressQuery, settlementChangedSignal, type payoutRunWorkflow } from '../../workflows/payout-run.ts';
import { currentUser, requireRole } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageMetaSchema, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';

// Payout runs for finance staff and admins: start one, approve it (a different person), cancel
// it, fetch its bank file, upload the bank's status report, settle an item by hand. The run
// itself is the workflow `payout-run/<runId>`; these routes start it, send it updates and
// read the tables it writes.

const amount = z.number().int().openapi({ description: 'Integer minor units of the currency' });
const totalsSchema = z.record(z.string(), z.object({ count: z.number().int(), amount }));

const runSchema = z
  .object({
    id: z.uuid(),
    workflowId: z.string(),
    currency: z.string(),
    minimumAmount: amount,
    status: z.enum(payoutRunStatuses),
    phase: z.string().openapi({ description: 'The workflow’s `Phase` while it runs (finer than status), else the status' }),
    startedBy: z.uuid(),
    approvedBy: z.uuid().nullable(),
    approvedAt: z.iso.datetime().nullable(),
    cancelledBy: z.uuid().nullable(),
    approvalDeadline: z.iso.datetime().nullable(),
    hasBankFile: z.boolean(),
    hasReport: z.boolean(),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .openapi('PayoutRun');

const itemSchema = z
  .object({
    id: z.uuid(),
    creatorId: z.uuid(),
    amount,
    currency: z.string(),
    method: z.enum(['stripe', 'bank_transfer']),
    status: z.enum(payoutItemStatuses),
    failureReason: z.string().nullable(),
    endToEndId: z.string().nullable().openapi({ description: 'The id the bank file and the bank’s report carry (bank transfers)' }),
    destination: z.string().nullable().openapi({ description: 'The masked IBAN or the Stripe account' }),
    stripeTransferId: z.string().nullable(),
    stripePayoutId: z.string().nullable(),
    settledBy: z.string().nullable(),
    flagged: z.boolean().openapi({ description: 'Unsettled past the settlement deadline: finance should look' }),
    submittedAt: z.iso.datetime().nullable(),
    settledAt: z.iso.datetime().nullable(),
  })
  .openapi('PayoutItem');

const itemView = (i: PayoutItem) => ({
  id: i.id,
  creatorId: i.userId,
  amount: toJsonAmount(i.amount),
  currency: i.currency,
  method: i.method,
  status: i.status,
  failureReason: i.failureReason,
  endToEndId: i.method === 'bank_transfer' ? compactId(i.id) : null,
  destination: i.method === 'bank_transfer' ? i.ibanMasked : i.stripeAccountId,
  stripeTransferId: i.stripeTransferId,
  stripePayoutId: i.stripePayoutId,
  settledBy: i.settledBy,
  flagged: i.flaggedAt !== null,
  submittedAt: i.submittedAt?.toISOString() ?? null,
  settledAt: i.settledAt?.toISOString() ?? null,
});

const totalsView = (totals: Record<string, { count: number; amount: string }>) =>
  Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, { count: v.count, amount: toJsonAmount(BigInt(v.amount)) }]));

const runIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });
const itemParams = runIdParam.extend({ itemId: z.uuid().openapi({ param: { name: 'itemId', in: 'path' } }) });

export function payoutRunRoutes(deps: { db: Db; temporal: Temporal; storage: Storage; nats: Nats; minimumAmount: number }) {
  const { db, temporal } = deps;
  const router = createRouter();
  const finance = { security: [{ bearerAuth: [] }], middleware: [requireRole('finance', 'admin')] };
  const handleOf = (runId: string) => temporal.client.workflow.getHandle<typeof payoutRunWorkflow>(workflowIds.payoutRun(runId));

  const selectRuns = () =>
    db
      .selectFrom('payout_runs')
      .selectAll()
      .select([sql<string>`minimum_amount::text`.as('minimum_text'), sql<string>`created_at::text`.as('created_key')]);
  type RunRow = Awaited<ReturnType<ReturnType<typeof selectRuns>['executeTakeFirstOrThrow']>>;
  const runView = (r: RunRow, phase?: string) => ({
    id: r.id,
    workflowId: workflowIds.payoutRun(r.id),
    currency: r.currency,
    minimumAmount: toJsonAmount(BigInt(r.minimum_text)),
    status: r.status,
    phase: phase ?? r.status,
    startedBy: r.started_by,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at?.toISOString() ?? null,
    cancelledBy: r.cancelled_by,
    approvalDeadline: r.approval_deadline?.toISOString() ?? null,
    hasBankFile: r.bank_file_key !== null,
    hasReport: r.report_key !== null,
    createdAt: r.created_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  });
  const loadRun = async (runId: string) => {
    const run = await selectRuns().where('id', '=', runId).executeTakeFirst();
    if (!run) throw new AppError('not_found', 'No such payout run');
    return run;
  };
  /** The run's refusal, told as the API's error; anything else from Temporal is internal. */
  const asAppError = (err: unknown): unknown => {
    if (err instanceof WorkflowNotFoundError) return new AppError('conflict', 'The payout run is no longer running');
    if (!(err instanceof WorkflowUpdateFailedError)) return err;
    // The validator's refusal is the update's cause; the activity's (the database check) is one level deeper.
    let cause: unknown = err.cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as { cause?: unknown }).cause;
    if (!(cause instanceof ApplicationFailure)) return err;
    if (cause.type === 'Forbidden' || cause.type === 'SelfApproval') return new AppError('forbidden', cause.message, { reason: cause.type });
    return new AppError('conflict', cause.message, { reason: cause.type });
  };
  const nudge = (runId: string) => handleOf(runId).signal(settlementChangedSignal).catch(() => {});
  /** Creators online hear of their settled payouts; after the commit, at most once (the rows are in GET /notifications regardless). */
  const push = (notifications: StoredNotification[]) => pushNotifications(deps.nats, notifications).catch(() => {});

  /** Starts the run's workflow from its row; false when it was already started (by this request's twin, another API process). */
  const startRunWorkflow = async (run: { id: string; currency: string; startedBy: string; minimumAmount: string }): Promise<boolean> => {
    try {
      await temporal.client.workflow.start<typeof payoutRunWorkflow>('payoutRunWorkflow', {
        workflowId: workflowIds.payoutRun(run.id),
        taskQueue: temporal.taskQueue,
        args: [{ runId: run.id, currency: run.currency, startedBy: run.startedBy, minimumAmount: run.minimumAmount }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  };
  /**
   * The row is written before the workflow is started, so an API that dies between the two
   * leaves a `selecting` run with no workflow, blocking its currency. Whoever next looks at the
   * run (a new start in its currency, a GET of it) starts the workflow from the row; the
   * workflow finds its row and goes on. Only `selecting` rows: a later status means the
   * workflow ran, and restarting it is an operator's decision (README, "Recovering").
   * Returns true when this call started it.
   */
  const resumeIfOrphaned = async (run: { id: string; currency: string; status: string; started_by: string; minimum_text: string }): Promise<boolean> => {
    if (run.status !== 'selecting') return false;
    try {
      await handleOf(run.id).describe();
      return false;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    return startRunWorkflow({ id: run.id, currency: run.currency, startedBy: run.started_by, minimumAmount: run.minimum_text });
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payout-runs',
      tags: ['payouts'],
      summary: 'Start a payout run in one currency (finance, admin); a different finance user must approve it',
      ...finance,
      request: {
        body: jsonBody(
          z
            .object({
              currency: z.string().regex(/^[A-Z]{3}$/).openapi({ example: 'USD' }),
              minimumAmount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().openapi({ description: 'Minor units; default PAYOUT_MINIMUM_MINOR' }),
            })
            .strict(),
        ),
      },
      responses: {
        202: enveloped(z.object({ id: z.uuid(), workflowId: z.string() }), 'Started: creators are being selected and reserved'),
        ...errorResponses({
          400: 'Invalid body',
          401: 'Not signed in',
          403: 'Not finance or admin',
          409: 'A run in this currency is still open (`details.runId`; `details.resumed` when its workflow had never started and this request started it)',
        }),
      },
    }),
    async (c) => {
      const { currency, minimumAmount } = c.req.valid('json');
      const id = randomUUID();
      const minimum = String(minimumAmount ?? deps.minimumAmount);
      const startedBy = currentUser(c).userId;
      // The row first: the database's one-open-run-per-currency index answers a concurrent start
      // with 409 here. The workflow's own openRun finds the row and goes on. If the workflow
      // cannot be started now (or this process dies first), the row stays and the next start in
      // this currency, or a GET of the run, starts it (resumeIfOrphaned).
      try {
        await openRun(db, { runId: id, currency, minimumAmount: BigInt(minimum), startedBy });
      } catch (err) {
        if (!(err instanceof RunAlreadyOpenError)) throw err;
        const open = await openRunOf(db, currency);
        const openRow = open && (await selectRuns().where('id', '=', open.id).executeTakeFirst());
        const resumed = openRow ? await resumeIfOrphaned(openRow) : false;
        throw new AppError('conflict', `A payout run in ${currency} is still open`, { runId: open?.id, ...(resumed ? { resumed: true } : {}) });
      }
      await startRunWorkflow({ id, currency, startedBy, minimumAmount: minimum });
      return c.json(ok({ id, workflowId: workflowIds.payoutRun(id) }), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payout-runs',
      tags: ['payouts'],
      summary: 'Payout runs, newest first (finance, admin)',
      ...finance,
      request: { query: pageQuerySchema },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(runSchema) } } }, ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not finance or admin' }) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const before = decodeCursor(cursor, timeKeyCursorSchema);
      let query = selectRuns();
      if (before) query = query.where(sql<boolean>`(created_at, id) < (${before.at}::timestamptz, ${before.id}::uuid)`);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      return c.json(page(rows, limit, (r) => runView(r), (r) => ({ at: r.created_key, id: r.id })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payout-runs/{id}',
      tags: ['payouts'],
      summary: 'One payout run: its phase, totals by status and method, and one page of its items (finance, admin)',
      ...finance,
      request: { params: runIdParam, query: pageQuerySchema.extend({ status: z.enum(payoutItemStatuses).optional() }) },
      responses: {
        200: {
          description: 'The run and a page of items',
          content: {
            'application/json': {
              schema: z.object({
                success: z.literal(true),
                data: z.object({ run: runSchema, totals: z.object({ byStatus: totalsSchema, byMethod: totalsSchema }), items: z.array(itemSchema) }),
                meta: pageMetaSchema,
              }),
            },
          },
        },
        ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not finance or admin', 404: 'No such run' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor, status } = c.req.valid('query');
      const run = await loadRun(id);
      const after = decodeCursor(cursor, z.object({ id: z.uuid() }));
      const [items, totals] = await Promise.all([
        listItems(db, { runId: id, afterId: after?.id, limit: limit + 1, statuses: status ? [status] : undefined }),
        runTotals(db, id),
      ]);
      // A workflow started just now has not run its first task: its phase is the row's status.
      const resumed = await resumeIfOrphaned(run);
      let phase: string | undefined;
      if (!run.finished_at && !resumed) phase = await handleOf(id).query(payoutRunProgressQuery).then((p) => p.phase, () => undefined);
      const { data, meta } = page(items, limit, itemView, (i) => ({ id: i.id }));
      const totalsOut = { byStatus: totalsView(totals.byStatus), byMethod: totalsView(totals.byMethod) } satisfies Record<keyof RunTotals, unknown>;
      return c.json({ success: true as const, data: { run: runView(run, phase), totals: totalsOut, items: data }, meta }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payout-runs/{id}/approve',
      tags: ['payouts'],
      summary: 'Approve a run awaiting approval (a finance user or admin other than its starter), optionally excluding creators',
      ...finance,
      request: { params: runIdParam, body: { required: false, content: { 'application/json': { schema: z.object({ exclude: z.array(z.uuid()).max(1000).optional() }).strict() } } } },
      responses: {
        200: enveloped(z.object({ approvedBy: z.uuid(), excluded: z.number().int() }), 'Approved: payouts go out now'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not finance or admin, or the run’s own starter', 404: 'No such run', 409: 'Not awaiting approval' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const auth = currentUser(c);
      const run = await loadRun(id);
      // Checked here and again by the workflow's validator and against the database.
      if (run.started_by === auth.userId) throw new AppError('forbidden', 'The user who started a payout run cannot approve it', { reason: 'SelfApproval' });
      if (run.status !== 'awaiting_approval') throw new AppError('conflict', `The run is ${run.status}, not awaiting approval`);
      const body = (c.req.valid('json') as { exclude?: string[] } | undefined) ?? {};
      try {
        const result = await handleOf(id).executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: auth.userId, approverRole: auth.role, exclude: body.exclude }] });
        return c.json(ok(result), 200);
      } catch (err) {
        throw asAppError(err);
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payout-runs/{id}/cancel',
      tags: ['payouts'],
      summary: 'Cancel a run not yet approved: every reservation is released (finance, admin)',
      ...finance,
      request: { params: runIdParam },
      responses: {
        202: enveloped(z.object({ cancelledBy: z.uuid() }), 'Cancelling: reservations are being released'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not finance or admin', 404: 'No such run', 409: 'Already approved or finished' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const auth = currentUser(c);
      const run = await loadRun(id);
      if (run.status !== 'selecting' && run.status !== 'awaiting_approval') throw new AppError('conflict', `The run is ${run.status}: only a run not yet approved can be cancelled`);
      try {
        return c.json(ok(await handleOf(id).executeUpdate(cancelPayoutRunUpdate, { args: [{ by: auth.userId, role: auth.role }] })), 202);
      } catch (err) {
        throw asAppError(err);
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payout-runs/{id}/bank-file',
      tags: ['payouts'],
      summary: 'A short-lived link to the run’s pain.001 credit-transfer file, to submit to the bank (finance, admin)',
      ...finance,
      request: { params: runIdParam },
      responses: {
        200: enveloped(z.object({ url: z.url(), expiresAt: z.iso.datetime(), fileName: z.string() }), 'The link'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not finance or admin', 404: 'No such run, or it has no bank file (yet)' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const run = await loadRun(id);
      if (!run.bank_file_key || !(await headObject(deps.storage, run.bank_file_key))) throw new AppError('not_found', 'This run has no bank file (yet)');
      const ttl = 600;
      const url = await presignGet(deps.storage, run.bank_file_key, ttl, 'public');
      return c.json(ok({ url, expiresAt: new Date(Date.now() + ttl * 1000).toISOString(), fileName: `payout-run-${compactId(id)}-pain001.xml` }), 200);
    },
  );

  const settleOutcomeSchema = z.object({
    settled: z.number().int(),
    alreadySettled: z.number().int(),
    returned: z.number().int().openapi({ description: 'Paid items the report says the bank returned: their money went back to the creators' }),
    conflicts: z.array(z.object({ payoutId: z.uuid(), message: z.string() })), problems: z.array(z.object({ at: z.string(), message: z.string() })),
  });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payout-runs/{id}/bank-status',
      tags: ['payouts'],
      summary: 'Upload the bank’s status report for the run’s file: pain.002 XML or CSV `end_to_end_id,status,reason` (finance, admin)',
      description:
        'Accepted statuses (ACSC, ACCC, ACSP, PAID) settle an item paid; RJCT, FAILED and RETURNED return its money to the creator with the reason; pending ones (PDNG, ACTC, RCVD) change nothing. A failure reported for an item already paid is a bank return: a compensating ledger entry gives the creator the money back (counted under `returned`), once per payout. Uploading the same report again changes nothing.',
      ...finance,
      request: { params: runIdParam, body: jsonBody(z.object({ content: z.string().min(1).max(900_000) }).strict()) },
      responses: {
        200: enveloped(settleOutcomeSchema, 'What the report settled; lines it could not use are listed under problems'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not finance or admin', 404: 'No such run', 409: 'The run has no bank file yet' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const auth = currentUser(c);
      const run = await loadRun(id);
      if (!run.bank_file_key) throw new AppError('conflict', 'This run has no bank file yet');
      const report = parseBankStatus(c.req.valid('json').content);
      const outcome = { settled: 0, alreadySettled: 0, returned: 0, conflicts: [] as { payoutId: string; message: string }[], problems: report.problems };
      const notifications: StoredNotification[] = [];
      for (const line of report.lines) {
        const result = await db.transaction().execute(async (tx) => {
          const item = await tx.selectFrom('payout_items').select(['run_id', 'method', 'status']).where('id', '=', line.payoutId).executeTakeFirst();
          if (!item || item.run_id !== id || item.method !== 'bank_transfer') return 'unknown' as const;
          if (line.outcome === 'failed' && (item.status === 'paid' || item.status === 'returned')) {
            const returned = await returnPaidItem(tx, { itemId: line.payoutId, reason: line.reason, returnedBy: `bank-status:${auth.userId}` });
            if (returned.notification) notifications.push(returned.notification);
            return returned.result === 'already_returned' ? ('already_settled' as const) : returned.result;
          }
          const settled = await settleItem(tx, { itemId: line.payoutId, outcome: line.outcome, reason: line.reason, settledBy: `bank-status:${auth.userId}` });
          if (settled.notification) notifications.push(settled.notification);
          return settled.result;
        });
        if (result === 'settled') outcome.settled++;
        else if (result === 'returned') outcome.returned++;
        else if (result === 'already_settled') outcome.alreadySettled++;
        else if (result === 'unknown') outcome.problems.push({ at: compactId(line.payoutId), message: 'no bank transfer of this run has this end-to-end id' });
        else outcome.conflicts.push({ payoutId: line.payoutId, message: result === 'conflict' ? 'already settled with the other outcome' : 'not sent yet' });
      }
      await push(notifications);
      if (outcome.settled) await nudge(id);
      return c.json(ok(outcome), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/payout-runs/{id}/items/{itemId}/settle',
      tags: ['payouts'],
      summary: 'Settle one sent item by hand: paid, or failed with a reason (its money returns to the creator) (finance, admin)',
      description:
        '`failed` on an item already paid is a return: for a bank transfer, or a Stripe payout that Stripe reported failed after it was paid (flagged, once finance has taken the money back), a compensating ledger entry gives the creator the money back and notifies them, once per payout (`result: returned`).',
      ...finance,
      request: { params: itemParams, body: jsonBody(z.object({ outcome: z.enum(['paid', 'failed']), reason: z.string().trim().min(1).max(500).optional() }).strict()) },
      responses: {
        200: enveloped(z.object({ result: z.enum(['settled', 'already_settled', 'reversing', 'returned']), item: itemSchema }), 'Settled (or it was already, the same way)'),
        ...errorResponses({
          400: 'Invalid body',
          401: 'Not signed in',
          403: 'Not finance or admin',
          404: 'No such item in this run',
          409: 'Not sent yet, already settled the other way, or a paid Stripe payout Stripe has not reported failed',
        }),
      },
    }),
    async (c) => {
      const { id, itemId } = c.req.valid('param');
      const { outcome, reason } = c.req.valid('json');
      const auth = currentUser(c);
      const notifications: StoredNotification[] = [];
      const result = await db.transaction().execute(async (tx) => {
        const item = await tx.selectFrom('payout_items').select(['run_id', 'method', 'status', 'flagged_at', 'stripe_failed_after_paid_at']).where('id', '=', itemId).forUpdate().executeTakeFirst();
        if (!item || item.run_id !== id) throw new AppError('not_found', 'No such item in this run');
        // A Stripe payout that failed: the workflow takes the transfer back before the money returns.
        if (outcome === 'failed' && item.method === 'stripe' && item.status === 'submitted') {
          await markReversing(tx, itemId, reason ?? 'Marked failed by finance');
          return 'reversing' as const;
        }
        // Failed after it was paid: a return. A Stripe payout only once Stripe said so: until then
        // the money is in the creator's Stripe balance, not back with us.
        if (outcome === 'failed' && (item.status === 'paid' || item.status === 'returned')) {
          if (item.method === 'stripe' && !item.stripe_failed_after_paid_at && item.status === 'paid') throw new AppError('conflict', 'This Stripe payout was paid and Stripe has not reported it failed');
          const returned = await returnPaidItem(tx, { itemId, reason: reason ?? 'Returned, as finance recorded', returnedBy: `finance:${auth.userId}` });
          if (returned.notification) notifications.push(returned.notification);
          return returned.result === 'returned' ? ('returned' as const) : ('already_settled' as const);
        }
        // A flagged `reversing` item: Stripe refused the reversal, and finance decides (paid: the creator keeps it).
        const from = item.status === 'reversing' && item.flagged_at ? (['reversing'] as const) : (['submitted'] as const);
        const settled = await settleItem(tx, { itemId, outcome, reason: reason ?? 'Marked failed by finance', settledBy: `finance:${auth.userId}`, from });
        if (settled.result === 'conflict') throw new AppError('conflict', 'This item was already settled the other way');
        if (settled.result === 'not_settleable') throw new AppError('conflict', `This item is ${item.status}: only sent items can be settled`);
        if (settled.notification) notifications.push(settled.notification);
        return settled.result;
      });
      await push(notifications);
      await nudge(id);
      const item = await getItem(db, itemId);
      return c.json(ok({ result, item: itemView(item!) }), 200);
    },
  );

  return router;
}
