import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { prepared, type Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { giftCost, giftEntryKey, giftRequestFingerprint, LEADERBOARD_SIZE, leaderboardFrame, rankLeaderboard, topChangedBy, type GiftRequest } from '../../lib/gifts.ts';
import { groupCommit } from '../../lib/group-commit.ts';
import { accountCode, COIN, postEntriesWith, postEntryWith, toJsonAmount, userAccount, type Line, type PostedEntry } from '../../lib/ledger/index.ts';
import type { Logger } from '../../lib/logger.ts';
import { giftLines, type MoneyRules } from '../../lib/money/rules.ts';
import type { Nats } from '../../lib/nats.ts';
import { publishRoomFrame, type LeaderboardEntry } from '../../lib/room-frames.ts';
import { restrictedFromRoom } from '../../lib/moderation/channel.ts';
import { latestRestrictionJoin, restrictionFromColumns, type LatestRestrictionColumns } from '../../lib/moderation/channel-store.ts';
import { LIVE_STATUSES } from '../../lib/streams.ts';
import type { StreamStatus } from '../../lib/schema.ts';

export interface GiftSendRequest extends GiftRequest {
  senderId: string;
  idempotencyKey: string;
}

/** What the sender is answered, the first time and on every replay of the same key. */
export interface GiftSendView {
  id: string;
  streamId: string;
  creatorId: string;
  giftId: string;
  quantity: number;
  coins: number;
  createdAt: string;
}

export interface GiftSent {
  giftSend: GiftSendView;
  walletBalance: bigint;
  /** True when the key had been used before: nothing new was written or announced. */
  replayed: boolean;
}

interface SendContext extends LatestRestrictionColumns {
  status: StreamStatus | null;
  owner_id: string | null;
  gift_id: string | null;
  slug: string | null;
  name: string | null;
  image_url: string | null;
  price: string | null;
  active: boolean | null;
  username: string | null;
}

const walletOf = (userId: string) => userAccount('coin_wallet', userId, COIN);

/** A timestamp as the ISO 8601 text clients get, made by Postgres the same way for a send and its replays. */
const isoTime = (column: RawBuilder<unknown>) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A send checked against what it is sent to, with the ids its rows will have, ready to be written. */
interface ReadySend {
  request: GiftSendRequest;
  fingerprint: string;
  id: string;
  entryId: string;
  coins: bigint;
  creatorId: string;
  context: SendContext;
  lines: Line[];
}

type SendOutcome = GiftSent & { announce: AnnounceInput | undefined };

/**
 * Sends a gift: one transaction writes the send (claiming the sender's idempotency key), adds
 * it to the broadcast's totals and posts its ledger entry (coins out of the wallet, their value
 * into the creator's pending earnings). Not enough coins → `insufficient_funds` and nothing
 * kept. The same key asked again answers what it answered the first time.
 */
export async function sendGift(db: Db, rules: MoneyRules, request: GiftSendRequest): Promise<SendOutcome> {
  const [context] = await readContexts(db, [request]);
  const checked = await checkSend(db, rules, request, context!);
  return 'earlier' in checked ? checked.earlier : postSend(db, checked);
}

/** Most sends written, or read for, by one statement. */
const GIFT_BATCH_MAX = 64;
/**
 * Batches written at the same time; the pool's other connections serve the requests' reads.
 * `npm run bench -- ledger` (100 → 100): 1 in flight 961 gifts/s, 2 997/s, 4 821/s (smaller
 * batches, more commits); 2 has the lower p99 (README, Ledger throughput).
 */
const GIFT_BATCHES_IN_FLIGHT = 2;

/**
 * sendGift for a busy API (group commit): sends that arrive while earlier ones are being written
 * go to the database together, in one statement and one commit, each still claiming its own key
 * and answered its own wallet balance. One sender's sends never share a batch. When a batch is
 * refused whole (a wallet in it short of coins, a deadlock), its sends are posted one by one, so
 * only the one that is short is refused. Their context reads are gathered the same way.
 */
export function createGiftSender(db: Db, rules: MoneyRules, onBatch?: (size: number) => void): (request: GiftSendRequest) => Promise<SendOutcome> {
  const write = groupCommit<ReadySend, SendOutcome>({
    keyOf: (send) => send.request.senderId,
    maxBatch: GIFT_BATCH_MAX,
    maxInFlight: GIFT_BATCHES_IN_FLIGHT,
    onBatch,
    commit: (sends) => (sends.length === 1 ? Promise.allSettled([postSend(db, sends[0]!)]) : postSends(db, sends)),
  });
  const readContext = groupCommit<GiftSendRequest, SendContext>({
    maxBatch: GIFT_BATCH_MAX,
    maxInFlight: 1,
    commit: async (requests) => (await readContexts(db, requests)).map((context) => ({ status: 'fulfilled', value: context })),
  });
  return async (request) => {
    const checked = await checkSend(db, rules, request, await readContext(request));
    return 'earlier' in checked ? checked.earlier : write(checked);
  };
}

/** What each send is for (stream, gift, sender, the sender's restriction in the channel), in one statement, in the requests' order. */
async function readContexts(db: Db, requests: readonly GiftSendRequest[]): Promise<SendContext[]> {
  const column = (of: (request: GiftSendRequest) => string) => requests.map(of);
  // Prepared: every send reads its context.
  const { rows } = await prepared(sql<SendContext>`
    select s.status, s.owner_id, g.id as gift_id, g.slug, g.name, g.image_url, g.coins::text as price, g.active, u.username,
           restriction_action, restriction_reason, restriction_expires_at
    from unnest(${column((r) => r.streamId)}::uuid[], ${column((r) => r.giftId)}::uuid[], ${column((r) => r.senderId)}::uuid[])
      with ordinality as r (stream_id, gift_id, sender_id, n)
    left join streams s on s.id = r.stream_id
    left join gifts g on g.id = r.gift_id
    left join users u on u.id = r.sender_id
    ${latestRestrictionJoin(sql.ref('s.owner_id'), sql.ref('r.sender_id'))}
    order by r.n`).execute(db);
  return rows;
}

/** Refuses a send that may not go (a refused retry of an accepted send gets its answer), or readies it to be written. */
async function checkSend(db: Db, rules: MoneyRules, request: GiftSendRequest, context: SendContext): Promise<ReadySend | { earlier: SendOutcome }> {
  const fingerprint = giftRequestFingerprint(request);
  const refusal = refusalOf(context, request);
  if (refusal) {
    // A retry of a send that was accepted while the stream was live still gets its answer.
    const earlier = await findSend(db, request, fingerprint);
    if (earlier) return { earlier: { ...earlier, announce: undefined } };
    throw refusal;
  }
  const coins = giftCost(BigInt(context.price!), request.quantity);
  const creatorId = context.owner_id!;
  return { request, fingerprint, id: randomUUID(), entryId: randomUUID(), coins, creatorId, context, lines: giftLines(request.senderId, creatorId, coins, rules) };
}

const entryOf = (send: ReadySend) => ({
  entryId: send.entryId,
  idempotencyKey: giftEntryKey(send.id),
  kind: 'gift',
  refs: { giftSendId: send.id, streamId: send.request.streamId, giftId: send.request.giftId, senderId: send.request.senderId, creatorId: send.creatorId },
  lines: send.lines,
});

/**
 * Adds claimed sends to their broadcast's totals (`source` selects stream_id, sender_id, coins,
 * quantity, created_at). Totals only grow: with a full top of others ahead in this statement's
 * snapshot, the sender is not in the top after the commit either, and the room needs no
 * leaderboard read.
 */
const addToTotals = (source: RawBuilder<unknown>) => sql`
  insert into stream_gift_totals as t (stream_id, sender_id, coins, gifts, reached_at)
  ${source}
  on conflict (stream_id, sender_id) do update
    set coins = t.coins + excluded.coins, gifts = t.gifts + excluded.gifts, reached_at = excluded.reached_at
  returning t.stream_id, t.sender_id, ${isoTime(sql`t.reached_at`)} as sent_at, (
    select count(*) from (
      select from stream_gift_totals o
      where o.stream_id = t.stream_id and o.sender_id <> t.sender_id
        and (o.coins > t.coins or (o.coins = t.coins and o.reached_at < t.reached_at))
      limit ${LEADERBOARD_SIZE}
    ) ahead
  ) < ${LEADERBOARD_SIZE} as may_reach_top`;

/** One send: its claim, its totals and its entry in one statement that commits by itself. */
async function postSend(db: Db, send: ReadySend): Promise<SendOutcome> {
  const { request } = send;
  // The send claims the sender's key and adds to the broadcast's totals in the entry's own
  // statement: a concurrent request with the same key waits for this one, then claims nothing.
  const posted = await postEntryWith(db, entryOf(send), [
    {
      name: 'claim_send',
      query: sql`insert into gift_sends (id, sender_id, stream_id, creator_id, gift_id, quantity, coins, idempotency_key, request_fingerprint, entry_id)
        values (${send.id}, ${request.senderId}, ${request.streamId}, ${send.creatorId}, ${request.giftId}, ${request.quantity}, ${send.coins.toString()},
                ${request.idempotencyKey}, ${send.fingerprint}, ${send.entryId})
        on conflict (sender_id, idempotency_key) do nothing
        returning stream_id, sender_id, coins, quantity, created_at`,
    },
    { name: 'claim_totals', query: addToTotals(sql`select stream_id, sender_id, coins, quantity, created_at from claim_send`) },
  ]);
  return answerSend(db, send, posted);
}

const TRANSIENT_CONFLICTS = new Set(['40P01', '40001']);

/**
 * Many sends (of different senders) in one statement. Refused whole, they are posted one by
 * one: an overdraft refuses every entry of the statement, not only the one short of coins.
 */
async function postSends(db: Db, sends: readonly ReadySend[]): Promise<PromiseSettledResult<SendOutcome>[]> {
  const column = <T>(of: (send: ReadySend) => T) => sends.map(of);
  let posted: Awaited<ReturnType<typeof postEntriesWith>>;
  try {
    posted = await postEntriesWith(db, sends.map(entryOf), [
      {
        name: 'claim_send',
        // In (sender, stream) order, like the totals below: concurrent batches lock rows in one order.
        query: sql`insert into gift_sends (id, sender_id, stream_id, creator_id, gift_id, quantity, coins, idempotency_key, request_fingerprint, entry_id)
          select * from unnest(${column((s) => s.id)}::uuid[], ${column((s) => s.request.senderId)}::uuid[], ${column((s) => s.request.streamId)}::uuid[],
                               ${column((s) => s.creatorId)}::uuid[], ${column((s) => s.request.giftId)}::uuid[], ${column((s) => s.request.quantity)}::int[],
                               ${column((s) => s.coins.toString())}::bigint[], ${column((s) => s.request.idempotencyKey)}::text[],
                               ${column((s) => s.fingerprint)}::text[], ${column((s) => s.entryId)}::uuid[])
            as s (id, sender_id, stream_id, creator_id, gift_id, quantity, coins, idempotency_key, request_fingerprint, entry_id)
          order by s.sender_id, s.stream_id
          on conflict (sender_id, idempotency_key) do nothing
          returning entry_id, stream_id, sender_id, coins, quantity, created_at`,
      },
      { name: 'claim_totals', query: addToTotals(sql`select stream_id, sender_id, coins, quantity, created_at from claim_send order by sender_id, stream_id`) },
      { name: 'claim_gifts', query: sql`select s.entry_id, t.sent_at, t.may_reach_top from claim_send s join claim_totals t using (stream_id, sender_id)` },
    ]);
  } catch (err) {
    const refusedWhole = (err instanceof AppError && err.code === 'insufficient_funds') || TRANSIENT_CONFLICTS.has((err as { code?: string }).code ?? '');
    if (!refusedWhole) throw err;
    return Promise.allSettled(sends.map((send) => postSend(db, send)));
  }
  return Promise.allSettled(sends.map((send, i) => answerSend(db, send, posted[i])));
}

/** The answer to a send whose statement ran: posted now, or (its key claimed before) the earlier one's. */
async function answerSend(db: Db, send: ReadySend, posted: (PostedEntry & { claimed: Record<string, unknown> }) | undefined): Promise<SendOutcome> {
  const { request, context } = send;
  if (!posted) {
    const earlier = await findSend(db, request, send.fingerprint);
    if (!earlier) throw new Error(`gift send of key ${request.idempotencyKey} vanished after its key was claimed`);
    return { ...earlier, announce: undefined };
  }
  const walletBalance = posted.balances.get(accountCode(walletOf(request.senderId)))!;
  const giftSend: GiftSendView = {
    id: send.id,
    streamId: request.streamId,
    creatorId: send.creatorId,
    giftId: request.giftId,
    quantity: request.quantity,
    coins: toJsonAmount(send.coins),
    createdAt: posted.claimed.sent_at as string,
  };
  const announce: AnnounceInput = {
    giftSend,
    mayReachTop: posted.claimed.may_reach_top === true,
    sender: { id: request.senderId, username: context.username! },
    gift: { id: request.giftId, slug: context.slug!, name: context.name!, imageUrl: context.image_url, coins: toJsonAmount(BigInt(context.price!)) },
  };
  return { giftSend, walletBalance, replayed: false, announce };
}

function refusalOf(context: SendContext, request: GiftSendRequest): AppError | undefined {
  if (context.status === null) return new AppError('not_found', 'No such stream');
  if (context.gift_id === null || !context.active) {
    return new AppError('validation_failed', 'No such gift in the catalog', [{ field: 'giftId', message: 'unknown or retired gift' }]);
  }
  if (context.owner_id === request.senderId) return new AppError('own_stream', 'You cannot send gifts to your own stream');
  if (!LIVE_STATUSES.includes(context.status)) return new AppError('stream_not_live', `Gifts are for live streams; this one is ${context.status}`);
  const restriction = restrictionFromColumns(context);
  return restriction && restrictedFromRoom(restriction, 'gifts');
}

/** The send made earlier under this sender's key, answered as it was then; another request under the key is refused. */
async function findSend(db: Db, request: GiftSendRequest, fingerprint: string): Promise<GiftSent | undefined> {
  const { rows } = await sql<{
    id: string;
    stream_id: string;
    creator_id: string;
    gift_id: string;
    quantity: number;
    coins: string;
    request_fingerprint: string;
    created_at: string;
    wallet_after: string;
  }>`
    select gs.id, gs.stream_id, gs.creator_id, gs.gift_id, gs.quantity, gs.coins::text as coins, gs.request_fingerprint,
           ${isoTime(sql`gs.created_at`)} as created_at,
           p.balance_after::text as wallet_after
    from gift_sends gs
    join ledger_postings p on p.entry_id = gs.entry_id
    join ledger_accounts a on a.id = p.account_id and a.code = ${accountCode(walletOf(request.senderId))}
    where gs.sender_id = ${request.senderId} and gs.idempotency_key = ${request.idempotencyKey}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  if (row.request_fingerprint !== fingerprint) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different gift; use a new key for a new gift');
  }
  return {
    giftSend: {
      id: row.id,
      streamId: row.stream_id,
      creatorId: row.creator_id,
      giftId: row.gift_id,
      quantity: row.quantity,
      coins: toJsonAmount(BigInt(row.coins)),
      createdAt: row.created_at,
    },
    walletBalance: BigInt(row.wallet_after),
    replayed: true,
  };
}

/** A broadcast's top gifters: by coins, then by who reached their total first. */
export async function readLeaderboard(db: Db, streamId: string, limit: number): Promise<LeaderboardEntry[]> {
  // Prepared: a gift that may reach the top reads it after every send.
  const { rows } = await prepared(sql<TopRow>`
    select t.sender_id, u.username, t.coins::text as coins
    from stream_gift_totals t join users u on u.id = t.sender_id
    where t.stream_id = ${streamId}::uuid
    order by t.coins desc, t.reached_at, t.sender_id
    limit ${limit}`).execute(db);
  return rankTop(rows);
}

interface TopRow {
  sender_id: string;
  username: string;
  coins: string;
}

const rankTop = (rows: readonly TopRow[]) => rankLeaderboard(rows.map((r) => ({ userId: r.sender_id, username: r.username, coins: toJsonAmount(BigInt(r.coins)) })));

/** The tops of several broadcasts in one statement (each in readLeaderboard's order), by stream id. */
async function readLeaderboards(db: Db, streamIds: readonly string[], limit: number): Promise<Map<string, LeaderboardEntry[]>> {
  const distinct = [...new Set(streamIds)];
  if (distinct.length === 1) return new Map([[distinct[0]!, await readLeaderboard(db, distinct[0]!, limit)]]);
  const { rows } = await prepared(sql<TopRow & { stream_id: string }>`
    select s.stream_id, top.sender_id, top.username, top.coins::text as coins
    from unnest(${distinct}::uuid[]) as s (stream_id)
    cross join lateral (
      select t.sender_id, u.username, t.coins, t.reached_at
      from stream_gift_totals t join users u on u.id = t.sender_id
      where t.stream_id = s.stream_id
      order by t.coins desc, t.reached_at, t.sender_id
      limit ${limit}
    ) top
    order by s.stream_id, top.coins desc, top.reached_at, top.sender_id`).execute(db);
  const rowsOf = new Map<string, TopRow[]>(distinct.map((id) => [id, []]));
  for (const row of rows) rowsOf.get(row.stream_id)!.push(row);
  return new Map([...rowsOf].map(([streamId, top]) => [streamId, rankTop(top)]));
}

/**
 * readLeaderboard of the top for a busy API: reads asked while others are under way go to the
 * database together, in one statement. Each read's statement starts after it was asked, so it
 * sees every send committed before: the room's last leaderboard frame is never stale.
 */
export function createLeaderboardReader(db: Db, onBatch?: (size: number) => void): (streamId: string) => Promise<LeaderboardEntry[]> {
  return groupCommit<string, LeaderboardEntry[]>({
    maxBatch: GIFT_BATCH_MAX,
    maxInFlight: 1,
    onBatch,
    commit: async (streamIds) => {
      const tops = await readLeaderboards(db, streamIds, LEADERBOARD_SIZE);
      return streamIds.map((id) => ({ status: 'fulfilled', value: tops.get(id)! }));
    },
  });
}

export interface AnnounceInput {
  giftSend: GiftSendView;
  /** False when the send certainly left the top as it was (the leaderboard is not read). */
  mayReachTop: boolean;
  sender: { id: string; username: string };
  gift: { id: string; slug: string; name: string; imageUrl: string | null; coins: number };
}

/**
 * Tells the room, after the commit: a `gift` frame, and a `leaderboard` frame when the send
 * changed the top (both in one write to NATS). Never throws: the gift is committed whatever
 * happens to its announcement.
 */
export async function announceGift(deps: { readTop: (streamId: string) => Promise<LeaderboardEntry[]>; nats: Nats; logger: Logger }, input: AnnounceInput): Promise<void> {
  const { giftSend } = input;
  let top: LeaderboardEntry[] | undefined;
  try {
    if (input.mayReachTop) top = await deps.readTop(giftSend.streamId);
  } catch (err) {
    deps.logger.warn({ err, giftSendId: giftSend.id }, 'could not read the leaderboard after a gift; no leaderboard frame sent');
  }
  publishRoomFrame(deps.nats, {
    type: 'gift',
    streamId: giftSend.streamId,
    id: giftSend.id,
    sender: input.sender,
    gift: input.gift,
    quantity: giftSend.quantity,
    coins: giftSend.coins,
    sentAt: giftSend.createdAt,
  });
  if (top && topChangedBy(input.sender.id, top)) publishRoomFrame(deps.nats, leaderboardFrame(giftSend.streamId, top));
}
