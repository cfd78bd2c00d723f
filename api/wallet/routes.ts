import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { accountCode, accountPostings, COIN, findAccounts, kindRule, toJsonAmount, userAccount } from '../../lib/ledger/index.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { errorResponses, pageMetaSchema, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { decodeHistoryCursor, historyItemSchema, historyPage, toHistoryItem } from './history.ts';

const walletSchema = z
  .object({
    currency: z.literal(COIN),
    balance: z.number().int().openapi({ description: 'Coins you can spend' }),
    history: z.array(historyItemSchema).openapi({ description: 'Coins in (purchases) and out (gifts), newest first' }),
  })
  .openapi('Wallet');

/** `/wallet`: the signed-in user's coins. */
export function walletRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['wallet'],
      summary: 'Your coin balance and its history, newest first (the history is keyset-paginated)',
      ...signedIn,
      request: { query: pageQuerySchema },
      responses: {
        200: { description: 'The wallet and one page of its history', content: { 'application/json': { schema: z.object({ success: z.literal(true), data: walletSchema, meta: pageMetaSchema }) } } },
        ...errorResponses({ 400: 'Invalid cursor or limit', 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const beforeId = decodeHistoryCursor(cursor);
      const ref = userAccount('coin_wallet', currentUser(c).userId, COIN);
      const account = (await findAccounts(db, [ref])).get(accountCode(ref));
      const postings = account ? await accountPostings(db, account.id, { limit: limit + 1, beforeId }) : [];
      const { history, meta } = historyPage(postings, limit, (p) => toHistoryItem(p, kindRule('coin_wallet').normalSide));
      return c.json({ success: true as const, data: { currency: COIN as typeof COIN, balance: toJsonAmount(account?.balance ?? 0n), history }, meta }, 200);
    },
  );

  return router;
}
