import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { postEntry } from '../../lib/ledger/index.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { coinPurchaseLines } from '../../lib/money/rules.ts';
import { createTokenSigner } from '../../lib/tokens.ts';

// What the ledger bench sends gifts between: signed-in senders with full wallets, creators
// each live on a stream of their own, and one more creator everybody gifts at once. Made
// set-based in the bench's scratch database (registering through the API would spend the
// setup in argon2); the wallets are funded the way a paid coin purchase books them.

/** Enough that no send of the run is refused for funds. */
export const WALLET_COINS = 1_000_000_000n;

export interface Sender {
  id: string;
  token: string;
}

export interface GiftFixtures {
  senders: Sender[];
  /** A live stream per sender, each of another creator: nobody shares an account but the platform's. */
  ownStreams: { streamId: string; creatorId: string }[];
  /** One live stream every sender gifts in the contended run. */
  hotStream: { streamId: string; creatorId: string };
  /** The gift sent (one coin). */
  giftId: string;
}

async function insertUsers(db: Db, what: string, count: number): Promise<string[]> {
  const tag = randomBytes(4).toString('hex');
  const { rows } = await sql<{ id: string }>`
    insert into users (email, username, password_hash, display_name, role)
    select ${what} || i || '_' || ${tag} || '@bench.test', ${what} || i || '_' || ${tag}, 'not-a-hash', ${what} || ' ' || i, 'creator'
    from generate_series(1, ${count}) i order by i
    returning id`.execute(db);
  return rows.map((r) => r.id);
}

async function insertLiveStreams(db: Db, ownerIds: string[]): Promise<string[]> {
  const rows = await db
    .insertInto('streams')
    .values(ownerIds.map((owner_id) => ({ owner_id, title: 'ledger bench', status: 'live' as const, stream_key_hash: randomBytes(32).toString('hex'), stream_key_prefix: 'bench' })))
    .returning(['id', 'owner_id'])
    .execute();
  const byOwner = new Map(rows.map((r) => [r.owner_id, r.id]));
  return ownerIds.map((owner) => byOwner.get(owner)!);
}

export async function createGiftFixtures(db: Db, config: Config, senderCount: number): Promise<GiftFixtures> {
  const senderIds = await insertUsers(db, 'sender', senderCount);
  const creatorIds = await insertUsers(db, 'creator', senderCount + 1);
  const streamIds = await insertLiveStreams(db, creatorIds);

  const tokens = createTokenSigner({ secret: config.auth.jwtSecret, ttlSeconds: 24 * 3600 });
  const sessions = senderIds.map((userId) => ({ id: randomUUID(), user_id: userId, expires_at: new Date(Date.now() + 24 * 3600_000) }));
  await db.insertInto('auth_sessions').values(sessions).execute();
  const senders: Sender[] = [];
  for (const session of sessions) {
    const { token } = await tokens.signAccess({ userId: session.user_id, role: 'creator', sessionId: session.id });
    senders.push({ id: session.user_id, token });
  }

  const rules = moneyRules(config);
  for (const sender of senders) {
    await postEntry(db, {
      idempotencyKey: `bench/coin-purchase/${sender.id}`,
      kind: 'coin_purchase',
      lines: coinPurchaseLines(sender.id, WALLET_COINS, WALLET_COINS * rules.coinCreatorValue, rules),
    });
  }
  const gift = await db.selectFrom('gifts').select('id').where('slug', '=', 'heart').executeTakeFirstOrThrow();
  return {
    senders,
    ownStreams: senderIds.map((_, i) => ({ streamId: streamIds[i]!, creatorId: creatorIds[i]! })),
    hotStream: { streamId: streamIds[senderCount]!, creatorId: creatorIds[senderCount]! },
    giftId: gift.id,
  };
}
