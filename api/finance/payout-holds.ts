import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { activePayoutHolds, liftPayoutHold, listPayoutHolds, setPayoutHold, type PayoutHold } from '../../lib/payouts/holds.ts';
import { currentUser, requireRole } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';

// Payout holds: a creator on hold is left out of every payout run until the hold is lifted.
// Admins set and lift their own (`admin`) hold; finance reads them all. Moderation sets and
// lifts one hold per case (`case:<caseId>`) through lib/payouts/holds.ts directly.

const holdSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    reason: z.string(),
    source: z.string().openapi({ description: '`admin` (this API) or `case:<caseId>` (a moderation decision; lifted only by its case)' }),
    setBy: z.uuid().nullable().openapi({ description: 'The admin or moderator who set it; null when the system did' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('PayoutHold');

const holdView = (h: PayoutHold) => ({ id: h.id, userId: h.userId, reason: h.reason, source: h.source, setBy: h.setBy, createdAt: h.createdAt.toISOString() });

const userIdParam = z.object({ userId: z.uuid().openapi({ param: { name: 'userId', in: 'path' } }) });

export function payoutHoldRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const readers = { security: [{ bearerAuth: [] }], middleware: [requireRole('finance', 'admin')] };
  const admins = { security: [{ bearerAuth: [] }], middleware: [requireRole('admin')] };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payout-holds',
      tags: ['payouts'],
      summary: 'Creators on payout hold, newest first (finance, admin)',
      ...readers,
      request: { query: pageQuerySchema },
      responses: {
        200: { description: 'One page of active holds', content: { 'application/json': { schema: pagedEnvelope(holdSchema) } } },
        ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not finance or admin' }),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listPayoutHolds(db, { before: decodeCursor(cursor, timeKeyCursorSchema), limit: limit + 1 });
      return c.json(page(rows, limit, holdView, (h) => ({ at: h.createdKey, id: h.id })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/payout-holds/{userId}',
      tags: ['payouts'],
      summary: 'A creator’s oldest active payout hold, and under `holds` every active one (finance, admin)',
      ...readers,
      request: { params: userIdParam },
      responses: {
        200: enveloped(holdSchema.extend({ holds: z.array(holdSchema) }), 'The holds'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not finance or admin', 404: 'The creator is not on hold' }),
      },
    }),
    async (c) => {
      const holds = await activePayoutHolds(db, c.req.valid('param').userId);
      if (!holds.length) throw new AppError('not_found', 'This creator is not on payout hold');
      return c.json(ok({ ...holdView(holds[0]!), holds: holds.map(holdView) }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/payout-holds/{userId}',
      tags: ['payouts'],
      summary: 'Put a creator on payout hold, or re-word the admins’ hold on them (a moderation case’s hold is its own): no payout run selects them until every hold is lifted (admin)',
      description: 'A reservation a run already made is not touched: the run’s approver excludes the creator instead.',
      ...admins,
      request: { params: userIdParam, body: jsonBody(z.object({ reason: z.string().trim().min(1).max(500) }).strict()) },
      responses: {
        200: enveloped(holdSchema, 'The hold was re-worded'),
        201: enveloped(holdSchema, 'The creator is now on hold'),
        ...errorResponses({ 400: 'Invalid body', 401: 'Not signed in', 403: 'Not an admin', 404: 'No such user' }),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const { hold, created } = await setPayoutHold(db, { userId, reason: c.req.valid('json').reason, setBy: currentUser(c).userId });
      return created ? c.json(ok(holdView(hold)), 201) : c.json(ok(holdView(hold)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/payout-holds/{userId}',
      tags: ['payouts'],
      summary: 'Lift the admins’ payout hold on a creator; holds set by moderation cases stay until their case lifts them (admin)',
      ...admins,
      request: { params: userIdParam },
      responses: {
        200: enveloped(z.object({ lifted: z.literal(true) }), 'Lifted'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not an admin', 404: 'The creator has no admin hold' }),
      },
    }),
    async (c) => {
      const lifted = await liftPayoutHold(db, { userId: c.req.valid('param').userId, liftedBy: currentUser(c).userId });
      if (!lifted) throw new AppError('not_found', 'This creator has no admin payout hold (a moderation case’s hold is lifted by its case)');
      return c.json(ok({ lifted: true as const }), 200);
    },
  );

  return router;
}
