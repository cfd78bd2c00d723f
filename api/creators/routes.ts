import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { accountCode, accountPostings, findAccounts, kindRule, toJsonAmount, userAccount, type AccountKind } from '../../lib/ledger/index.ts';
import { currentUser, requireRole } from '../middleware/auth.ts';
import { errorResponses, pageMetaSchema, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { decodeHistoryCursor, historyItemSchema, historyPage, toHistoryItem } from '../wallet/history.ts';

/** A creator's three earnings accounts, by what the API calls them. */
const earningsAccounts = { pending: 'earnings_pending', available: 'earnings_available', reserved: 'earnings_reserved' } as const satisfies Record<string, AccountKind>;
type Bucket = keyof typeof earningsAccounts;
const buckets = Object.keys(earningsAccounts) as Bucket[];

const amount = z.number().int().openapi({ description: 'Integer minor units of the settlement currency' });

const earningsSchema = z
  .object({
    currency: z.string().openapi({ description: 'The settlement currency (ISO 4217)' }),
    pending: amount.openapi({ description: 'Earned and still on hold (refundable) for EARNINGS_HOLD_DAYS' }),
    available: amount.openapi({ description: 'Past the hold: paid out in the next payout run; negative while a refund of paid earnings is being repaid' }),
    reserved: amount.openapi({ description: 'Set aside for a payout in progress' }),
    history: z
      .array(historyItemSchema.extend({ account: z.enum(buckets as [Bucket, ...Bucket[]]) }))
      .openapi({ description: 'Postings of the three accounts, newest first; `kind` says where each came from' }),
  })
  .openapi('Earnings');

/** `/creators/me/…`: a creator's own money. */
export function creatorRoutes(deps: { config: Config; db: Db }) {
  const { db } = deps;
  const currency = deps.config.money.settlementCurrency;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/earnings',
      tags: ['wallet'],
      summary: 'Your earnings: pending, available and reserved, with their history by source (creators)',
      security: [{ bearerAuth: [] }],
      middleware: [requireRole('creator', 'moderator', 'admin', 'finance')],
      request: {
        query: pageQuerySchema.extend({
          kind: z.string().regex(/^[a-z_.]+$/).max(64).optional().openapi({ description: 'Only entries of this source, e.g. `gift` or `tip`' }),
        }),
      },
      responses: {
        200: { description: 'Balances and one page of history', content: { 'application/json': { schema: z.object({ success: z.literal(true), data: earningsSchema, meta: pageMetaSchema }) } } },
        ...errorResponses({ 400: 'Invalid filter, cursor or limit', 401: 'Not signed in', 403: 'Viewers have no earnings: streaming or uploading makes you a creator' }),
      },
    }),
    async (c) => {
      const { limit, cursor, kind } = c.req.valid('query');
      const beforeId = decodeHistoryCursor(cursor);
      const userId = currentUser(c).userId;
      const refs = buckets.map((bucket) => userAccount(earningsAccounts[bucket], userId, currency));
      const accounts = await findAccounts(db, refs);
      const bucketOf = new Map<string, Bucket>();
      const balances = {} as Record<Bucket, number>;
      buckets.forEach((bucket, i) => {
        const account = accounts.get(accountCode(refs[i]!));
        if (account) bucketOf.set(account.id, bucket);
        balances[bucket] = toJsonAmount(account?.balance ?? 0n);
      });
      const postings = bucketOf.size ? await accountPostings(db, [...bucketOf.keys()], { limit: limit + 1, beforeId, kind }) : [];
      const { history, meta } = historyPage(postings, limit, (p) => {
        const bucket = bucketOf.get(p.accountId)!;
        return { ...toHistoryItem(p, kindRule(earningsAccounts[bucket]).normalSide), account: bucket };
      });
      return c.json({ success: true as const, data: { currency, ...balances, history }, meta }, 200);
    },
  );

  return router;
}
