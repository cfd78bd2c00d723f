import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { accountKinds, getAccount, listAccounts, listEntries, accountPostings, toJsonAmount, trialBalance, type Account } from '../../lib/ledger/index.ts';
import { requireRole } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, ok, page, pagedEnvelope, pageMetaSchema, pageQuerySchema, timeKeyCursorSchema, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';

// Read-only views of the ledger for finance staff and admins. Every amount is an integer
// number of minor units (cents; coins for COIN).

const amount = z.number().int().openapi({ description: 'Integer minor units of the currency (coins for COIN)' });
const sideSchema = z.enum(['debit', 'credit']);

const accountSchema = z
  .object({
    id: z.uuid(),
    code: z.string().openapi({ description: '`<owner id | platform>:<kind>:<currency>`' }),
    kind: z.enum(Object.keys(accountKinds) as [keyof typeof accountKinds]),
    ownerId: z.uuid().nullable(),
    currency: z.string(),
    normalSide: sideSchema,
    limit: z.enum(['debits_must_not_exceed_credits', 'credits_must_not_exceed_debits']).nullable(),
    debitsPosted: amount,
    creditsPosted: amount,
    balance: amount.openapi({ description: 'On the account’s normal side' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('LedgerAccount');

const postingSchema = z
  .object({
    id: z.string(),
    entryId: z.uuid(),
    entryKind: z.string(),
    idempotencyKey: z.string(),
    side: sideSchema,
    amount,
    balanceAfter: amount.nullable().openapi({ description: 'The account’s balance right after this posting; null on the platform’s sharded accounts' }),
    effectiveAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
  })
  .openapi('LedgerPosting');

const entrySchema = z
  .object({
    id: z.uuid(),
    idempotencyKey: z.string(),
    kind: z.string(),
    description: z.string(),
    refs: z.record(z.string(), z.string()),
    reverses: z.uuid().nullable(),
    effectiveAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    postings: z.array(z.object({ accountId: z.uuid(), accountCode: z.string(), currency: z.string(), side: sideSchema, amount })),
  })
  .openapi('LedgerEntry');

const trialBalanceSchema = z
  .object({
    balanced: z.boolean().openapi({ description: 'Every currency’s debits equal its credits' }),
    currencies: z.array(z.object({ currency: z.string(), debits: amount, credits: amount, difference: amount, balanced: z.boolean() })),
  })
  .openapi('TrialBalance');

export const toAccountItem = (a: Account) => ({
  id: a.id,
  code: a.code,
  kind: a.kind,
  ownerId: a.ownerId,
  currency: a.currency,
  normalSide: a.normalSide,
  limit: a.limit,
  debitsPosted: toJsonAmount(a.debitsPosted),
  creditsPosted: toJsonAmount(a.creditsPosted),
  balance: toJsonAmount(a.balance),
  createdAt: a.createdAt.toISOString(),
});

export function financeRoutes(deps: { db: Db }) {
  const router = createRouter();
  const finance = { security: [{ bearerAuth: [] }], middleware: [requireRole('finance', 'admin')] };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/accounts',
      tags: ['finance'],
      summary: 'Ledger accounts by code, optionally of one owner, kind or currency (finance, admin)',
      ...finance,
      request: {
        query: pageQuerySchema.extend({
          ownerId: z.uuid().optional(),
          kind: z.enum(Object.keys(accountKinds) as [keyof typeof accountKinds]).optional(),
          currency: z.string().regex(/^[A-Z]{3,8}$/).optional(),
        }),
      },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(accountSchema) } } }, ...errorResponses({ 400: 'Invalid filter or cursor', 401: 'Not signed in', 403: 'Not finance or admin' }) },
    }),
    async (c) => {
      const { limit, cursor, ownerId, kind, currency } = c.req.valid('query');
      const after = decodeCursor(cursor, z.object({ code: z.string() }));
      const rows = await listAccounts(deps.db, { limit: limit + 1, afterCode: after?.code, ownerId, kind, currency });
      return c.json(page(rows, limit, toAccountItem, (a) => ({ code: a.code })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{id}',
      tags: ['finance'],
      summary: 'One ledger account: its balance and its postings, newest first (finance, admin)',
      ...finance,
      request: { params: uuidParam, query: pageQuerySchema },
      responses: {
        200: {
          description: 'The account and one page of its postings',
          content: { 'application/json': { schema: z.object({ success: z.literal(true), data: z.object({ account: accountSchema, postings: z.array(postingSchema) }), meta: pageMetaSchema }) } },
        },
        ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not finance or admin', 404: 'No such account' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const account = await getAccount(deps.db, id);
      if (!account) throw new AppError('not_found', 'No such ledger account');
      const after = decodeCursor(cursor, z.object({ id: z.string().regex(/^\d{1,19}$/) }));
      const postings = await accountPostings(deps.db, id, { limit: limit + 1, beforeId: after?.id });
      const { data, meta } = page(
        postings,
        limit,
        (p) => ({
          id: p.id,
          entryId: p.entryId,
          entryKind: p.kind,
          idempotencyKey: p.idempotencyKey,
          side: p.side,
          amount: toJsonAmount(p.amount),
          balanceAfter: p.balanceAfter === null ? null : toJsonAmount(p.balanceAfter),
          effectiveAt: p.effectiveAt.toISOString(),
          createdAt: p.createdAt.toISOString(),
        }),
        (p) => ({ id: p.id }),
      );
      return c.json({ success: true as const, data: { account: toAccountItem(account), postings: data }, meta }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/entries',
      tags: ['finance'],
      summary: 'Journal entries, newest first, each with its postings (finance, admin)',
      ...finance,
      request: { query: pageQuerySchema.extend({ kind: z.string().regex(/^[a-z_.]+$/).max(64).optional() }) },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(entrySchema) } } }, ...errorResponses({ 400: 'Invalid filter or cursor', 401: 'Not signed in', 403: 'Not finance or admin' }) },
    }),
    async (c) => {
      const { limit, cursor, kind } = c.req.valid('query');
      const before = decodeCursor(cursor, timeKeyCursorSchema);
      const rows = await listEntries(deps.db, { limit: limit + 1, before, kind });
      return c.json(
        page(
          rows,
          limit,
          (e) => ({
            id: e.id,
            idempotencyKey: e.idempotencyKey,
            kind: e.kind,
            description: e.description,
            refs: e.refs,
            reverses: e.reverses,
            effectiveAt: e.effectiveAt.toISOString(),
            createdAt: e.createdAt.toISOString(),
            postings: e.postings.map((p) => ({ ...p, amount: toJsonAmount(p.amount) })),
          }),
          (e) => ({ at: e.createdAtKey, id: e.id }),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/trial-balance',
      tags: ['finance'],
      summary: 'Per currency, total debits and credits over every account: equal when the books balance (finance, admin)',
      ...finance,
      responses: { 200: enveloped(trialBalanceSchema, 'The trial balance'), ...errorResponses({ 401: 'Not signed in', 403: 'Not finance or admin' }) },
    }),
    async (c) => {
      const lines = await trialBalance(deps.db);
      const currencies = lines.map((l) => ({ currency: l.currency, debits: toJsonAmount(l.debits), credits: toJsonAmount(l.credits), difference: toJsonAmount(l.difference), balanced: l.difference === 0n }));
      return c.json(ok({ balanced: currencies.every((l) => l.balanced), currencies }), 200);
    },
  );

  return router;
}
