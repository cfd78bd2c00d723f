import { randomUUID } from 'node:crypto';
import type { Db } from '../../lib/db.ts';
import { accountCode, balancesOf, COIN, postEntry, userAccount } from '../../lib/ledger/index.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { coinPurchaseLines, coinValue } from '../../lib/money/rules.ts';
import type { TestContext } from './context.ts';

/**
 * Puts `coins` into a user's wallet as a paid coin purchase books them (a fixture standing in
 * for the payment flow): coins issued into the wallet, their creator value owed as a
 * liability, the rest of the price as revenue. A unique key each time.
 */
export async function fundWallet(ctx: Pick<TestContext, 'db' | 'config'>, userId: string, coins: bigint): Promise<void> {
  const rules = moneyRules(ctx.config);
  const price = coinValue(coins, rules) + coins / 5n + 100n;
  const purchaseId = randomUUID();
  await postEntry(ctx.db, {
    idempotencyKey: `test/coin-purchase/${purchaseId}`,
    kind: 'coin_purchase',
    refs: { coinPurchaseId: purchaseId, buyerId: userId },
    lines: coinPurchaseLines(userId, coins, price, rules),
  });
}

/** A catalog gift by slug (the migration's starter catalog): its id and price. */
export async function giftBySlug(db: Db, slug: string): Promise<{ id: string; coins: number }> {
  return db.selectFrom('gifts').select(['id', 'coins']).where('slug', '=', slug).executeTakeFirstOrThrow();
}

/** The coins in a user's wallet (0 for a wallet never funded). */
export async function walletBalance(db: Db, userId: string): Promise<bigint> {
  const ref = userAccount('coin_wallet', userId, COIN);
  return (await balancesOf(db, [ref])).get(accountCode(ref))!;
}
