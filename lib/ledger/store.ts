import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { prepared, type Db, type Tx } from '../db.ts';
import { AppError } from '../errors.ts';
import { accountCode, isSharded, kindRule, type AccountKind, type AccountRef, type Side } from './chart.ts';
import { fingerprint, normalBalance, prepareLines, type Line } from './rules.ts';

// The ledger in Postgres. Every entry is posted whole, with its postings, in one transaction
// (postEntries and postEntriesWith post several in one); the database refuses unbalanced
// entries, edits and overdrafts (see the ledger migration).

export interface PostEntryInput {
  /** Derived from our own ids (`tip/<id>`, `gift/<key>` …): posting it twice posts once. */
  idempotencyKey: string;
  /**
   * The new entry's id, when the caller chose it first (TigerBeetle's client-made ids) so that
   * its own rows (in the same transaction, or in postEntryWith's claim) can name the entry. A
   * replay answers with the id posted first.
   */
  entryId?: string;
  kind: string;
  description?: string;
  refs?: Record<string, string>;
  effectiveAt?: Date;
  /** Id of the entry this one undoes (each entry can be reversed once). */
  reverses?: string;
  lines: readonly Line[];
}

export interface PostedEntry {
  entryId: string;
  /** True when the key had been posted before: nothing new was written. */
  replayed: boolean;
  /**
   * Each touched account's balance on its normal side after the entry, by account code; the
   * platform's sharded accounts are left out (read them with balancesOf).
   */
  balances: Map<string, bigint>;
}

const INSUFFICIENT_FUNDS = 'SHL01';

/**
 * Posts one balanced entry, or finds the one posted before under the same key. Runs in the
 * caller's transaction when given one (so business rows and the entry commit together),
 * else on its own. An overdraft of a limited account throws `insufficient_funds` and, the
 * transaction being aborted, nothing of it is kept.
 *
 * The entry and its postings are one statement. When every account is known already (see
 * knownAccountIds) that statement is all it costs, and outside a transaction it commits by
 * itself: the accounts a busy entry shares with every other (the platform's) stay locked for
 * no round trip to the client.
 */
export async function postEntry(executor: Db | Tx, input: PostEntryInput): Promise<PostedEntry> {
  // Without a claim something is always posted, or found posted before.
  const { claimed: _, ...posted } = (await post(executor, input, []))!;
  return posted;
}

/** A data-modifying query run in the entry's statement, as the CTE `name` (later steps and the gate may read it). */
export interface ClaimStep {
  name: string;
  query: RawBuilder<unknown>;
}

/**
 * postEntry together with business writes that must commit with the entry, in the same
 * statement: `claim` runs first (its steps as CTEs, in order) and the entry is posted only if
 * the last step wrote a row, such as the insert that claims a request's idempotency key.
 * Answers the posted (or replayed) entry and that row (as JSON), or undefined when the claim
 * wrote nothing and nothing was posted. Outside a transaction the whole is one statement that
 * commits by itself, so a request that writes its own row and money costs one round trip.
 */
export async function postEntryWith(
  executor: Db | Tx,
  input: PostEntryInput,
  claim: readonly ClaimStep[],
): Promise<(PostedEntry & { claimed: Record<string, unknown> }) | undefined> {
  checkClaim(claim, 'postEntryWith');
  return post(executor, input, claim);
}

function checkClaim(claim: readonly ClaimStep[], caller: string) {
  if (claim.length === 0) throw new RangeError(`${caller} needs a claim; use postEntry`);
  for (const step of claim) {
    if (!/^claim_[a-z_]+$/.test(step.name)) throw new RangeError(`Claim step names start with claim_ (got ${step.name})`);
  }
}

async function post(executor: Db | Tx, input: PostEntryInput, claim: readonly ClaimStep[]) {
  const lines = prepareLines(input.lines);
  const digest = fingerprint(input.kind, lines);
  const refs = lines.map((l) => l.account);
  const known = knownAccountIds(executor, refs);
  if (known && !executor.isTransaction) return insertEntry(executor, input, claim, lines, digest, known);
  return inTransaction(executor, async (tx) => insertEntry(tx, input, claim, lines, digest, known ?? (await ensureAccounts(tx, refs))));
}

async function insertEntry(
  executor: Db | Tx,
  input: PostEntryInput,
  claim: readonly ClaimStep[],
  lines: Line[],
  digest: string,
  accountIds: Map<string, string>,
): Promise<(PostedEntry & { claimed: Record<string, unknown> }) | undefined> {
  // Chosen here when the caller did not: the postings can name their entry in the same statement.
  const entryId = input.entryId ?? randomUUID();
  const values = lines.map(
    (line, i) => sql`(${i}::int, ${accountIds.get(accountCode(line.account))!}::uuid, ${line.account.currency}::text, ${line.side}::text, ${line.amount.toString()}::bigint)`,
  );
  const steps = claim.length ? claim : [{ name: 'claim_none', query: sql`select true as posted` }];
  const gate = sql.ref(steps.at(-1)!.name);
  let rows: { id: string | null; account_id: string | null; balance_after: string | null; claimed: Record<string, unknown> | null }[];
  try {
    // Prepared: a gift's or a payment's entry is the same text every time, and its plan (five
    // data-modifying steps) costs more to make than to run.
    ({ rows } = await prepared(sql<(typeof rows)[number]>`
      with ${sql.join(steps.map((step) => sql`${sql.ref(step.name)} as (${step.query})`))},
      entry as (
        insert into ledger_entries (id, idempotency_key, kind, description, refs, fingerprint, reverses, effective_at)
        select ${entryId}::uuid, ${input.idempotencyKey}::text, ${input.kind}::text, ${input.description ?? ''}::text, ${JSON.stringify(input.refs ?? {})}::jsonb,
               ${digest}::text, ${input.reverses ?? null}::uuid, coalesce(${input.effectiveAt ?? null}::timestamptz, now())
        where exists (select from ${gate})
        on conflict (idempotency_key) do nothing
        returning id
      ),
      posted as (
        insert into ledger_postings (entry_id, account_id, currency, side, amount)
        select entry.id, line.account_id, line.currency, line.side, line.amount
        from entry cross join (values ${sql.join(values)}) as line (ord, account_id, currency, side, amount)
        order by line.ord
        returning id, account_id, balance_after
      )
      select posted.id::text as id, posted.account_id, posted.balance_after::text as balance_after, gate.claimed
      from (select (select to_jsonb(g) from ${gate} g limit 1) as claimed) gate
      left join posted on true`).execute(executor));
  } catch (err) {
    throw ledgerError(err, accountIds);
  }
  const claimed = rows[0]?.claimed;
  if (!claimed) return undefined;
  const postings = rows.filter((r): r is (typeof rows)[number] & PostingRow => r.id !== null);
  // Claimed but no postings: the key was posted before, and this statement wrote no entry.
  if (postings.length === 0) return { ...(await replay(executor, input.idempotencyKey, digest, accountIds)), claimed };
  return { entryId, replayed: false, balances: balancesAfter(postings, accountIds), claimed };
}

/**
 * postEntryWith for many entries in one statement and one commit (group commit): what a busy
 * writer gathers while its previous statement runs. The claim's steps run first and are written
 * for the whole batch; its last step answers one row per input it claimed, with that input's
 * `entry_id`, and only the inputs it names are posted. Answers, per input in order, as
 * postEntryWith does: the posted (or replayed) entry with its claimed row, or undefined.
 *
 * All or nothing: any refusal (an overdraft of any entry's account, a deadlock) throws and
 * nothing of the batch is kept; the caller then posts the inputs one by one, so that only the
 * entry that is refused is. Postings are inserted in account-code order across the batch, the
 * order every other writer locks accounts in.
 */
export async function postEntriesWith(
  executor: Db | Tx,
  inputs: readonly (PostEntryInput & { entryId: string })[],
  claim: readonly ClaimStep[],
): Promise<((PostedEntry & { claimed: Record<string, unknown> }) | undefined)[]> {
  checkClaim(claim, 'postEntriesWith');
  if (inputs.length === 0) return [];
  const entries = prepareEntries(inputs, 'postEntriesWith');
  if (new Set(inputs.map((i) => i.entryId)).size !== inputs.length) throw new RangeError('postEntriesWith: an entry id appears twice');
  const refs = entries.flatMap((e) => e.lines.map((l) => l.account));
  const known = knownAccountIds(executor, refs);
  if (known && !executor.isTransaction) return insertEntries(executor, entries, claim, known);
  return inTransaction(executor, async (tx) => insertEntries(tx, entries, claim, known ?? (await ensureAccounts(tx, refs))));
}

async function insertEntries(
  executor: Db | Tx,
  entries: readonly { input: PostEntryInput & { entryId: string }; lines: Line[]; digest: string }[],
  claim: readonly ClaimStep[],
  accountIds: Map<string, string>,
): Promise<((PostedEntry & { claimed: Record<string, unknown> }) | undefined)[]> {
  const postings = inLockOrder(entries.flatMap(({ input, lines }, index) => lines.map((line) => ({ line, index, entryId: input.entryId }))));
  const gate = sql.ref(claim.at(-1)!.name);
  let rows: { entry_id: string; claimed: Record<string, unknown>; id: string | null; account_id: string | null; balance_after: string | null }[];
  try {
    // Arrays, not a row of parameters per entry: the text is the same for any batch size, so it is
    // prepared once per connection.
    ({ rows } = await prepared(sql<(typeof rows)[number]>`
      with ${sql.join(claim.map((step) => sql`${sql.ref(step.name)} as (${step.query})`))},
      entry as (
        insert into ledger_entries (id, idempotency_key, kind, description, refs, fingerprint, reverses, effective_at)
        select e.id, e.idempotency_key, e.kind, e.description, e.refs, e.fingerprint, e.reverses, coalesce(e.effective_at, now())
        from unnest(${entries.map((e) => e.input.entryId)}::uuid[], ${entries.map((e) => e.input.idempotencyKey)}::text[], ${entries.map((e) => e.input.kind)}::text[],
                    ${entries.map((e) => e.input.description ?? '')}::text[], ${entries.map((e) => JSON.stringify(e.input.refs ?? {}))}::jsonb[],
                    ${entries.map((e) => e.digest)}::text[], ${entries.map((e) => e.input.reverses ?? null)}::uuid[], ${entries.map((e) => e.input.effectiveAt ?? null)}::timestamptz[])
             as e (id, idempotency_key, kind, description, refs, fingerprint, reverses, effective_at)
        where e.id in (select entry_id from ${gate})
        on conflict (idempotency_key) do nothing
        returning id
      ),
      posted as (
        insert into ledger_postings (entry_id, account_id, currency, side, amount)
        select line.entry_id, line.account_id, line.currency, line.side, line.amount
        from unnest(${postings.map((_, ord) => ord)}::int[], ${postings.map((p) => p.entryId)}::uuid[], ${postings.map((p) => accountIds.get(accountCode(p.line.account))!)}::uuid[],
                    ${postings.map((p) => p.line.account.currency)}::text[], ${postings.map((p) => p.line.side)}::text[], ${postings.map((p) => p.line.amount.toString())}::bigint[])
             as line (ord, entry_id, account_id, currency, side, amount)
        join entry on entry.id = line.entry_id
        order by line.ord
        returning id, entry_id, account_id, balance_after
      )
      select g.entry_id::text as entry_id, to_jsonb(g) as claimed, posted.id::text as id, posted.account_id, posted.balance_after::text as balance_after
      from ${gate} g left join posted on posted.entry_id = g.entry_id`).execute(executor));
  } catch (err) {
    throw ledgerError(err, accountIds);
  }
  const byEntry = new Map<string, { claimed: Record<string, unknown>; postings: PostingRow[] }>();
  for (const row of rows) {
    const entry = byEntry.get(row.entry_id) ?? { claimed: row.claimed, postings: [] };
    byEntry.set(row.entry_id, entry);
    if (row.id !== null) entry.postings.push(row as PostingRow);
  }
  const results: ((PostedEntry & { claimed: Record<string, unknown> }) | undefined)[] = [];
  for (const { input, lines, digest } of entries) {
    const got = byEntry.get(input.entryId);
    if (!got) {
      results.push(undefined);
      continue;
    }
    const ownIds = new Map(lines.map((line) => [accountCode(line.account), accountIds.get(accountCode(line.account))!]));
    // Claimed but no postings: the key was posted before, and this statement wrote no entry.
    if (got.postings.length === 0) results.push({ ...(await replay(executor, input.idempotencyKey, digest, ownIds)), claimed: got.claimed });
    else results.push({ entryId: input.entryId, replayed: false, balances: balancesAfter(got.postings, ownIds), claimed: got.claimed });
  }
  return results;
}

/** Each input's lines checked and ordered (prepareLines) with its fingerprint; one key twice in a call is refused. */
function prepareEntries<T extends PostEntryInput>(inputs: readonly T[], caller: string): { input: T; lines: Line[]; digest: string }[] {
  const entries = inputs.map((input) => {
    const lines = prepareLines(input.lines);
    return { input, lines, digest: fingerprint(input.kind, lines) };
  });
  if (new Set(inputs.map((i) => i.idempotencyKey)).size !== inputs.length) throw new RangeError(`${caller}: an idempotency key appears twice`);
  return entries;
}

/**
 * Postings of several entries in the order every writer locks accounts in: by account code, then
 * by entry. Stable, so within an entry and account prepareLines' order (by side) stays.
 */
function inLockOrder<P extends { line: Line; index: number }>(postings: P[]): P[] {
  return postings.sort((a, b) => {
    const [x, y] = [accountCode(a.line.account), accountCode(b.line.account)];
    return x < y ? -1 : x > y ? 1 : a.index - b.index;
  });
}

interface PostingRow {
  id: string;
  account_id: string;
  balance_after: string | null;
}

/**
 * Each account's balance after an entry, by code, from the entry's postings: the last posting
 * to an account (highest id) holds it. Sharded accounts have none (their balance is the sum of
 * their shards) and are left out.
 */
function balancesAfter(postings: readonly PostingRow[], accountIds: ReadonlyMap<string, string>): Map<string, bigint> {
  const byAccount = new Map<string, { id: bigint; balance: bigint | null }>();
  for (const p of postings) {
    const id = BigInt(p.id);
    if ((byAccount.get(p.account_id)?.id ?? -1n) < id) byAccount.set(p.account_id, { id, balance: p.balance_after === null ? null : BigInt(p.balance_after) });
  }
  const balances = new Map<string, bigint>();
  for (const [code, id] of accountIds) {
    const balance = byAccount.get(id)?.balance;
    if (balance !== undefined && balance !== null) balances.set(code, balance);
  }
  return balances;
}

/** A refused overdraft as the API's `insufficient_funds`, naming the account; any other error as it is. */
function ledgerError(err: unknown, accountIds: ReadonlyMap<string, string>): unknown {
  if ((err as { code?: string }).code !== INSUFFICIENT_FUNDS) return err;
  const code = [...accountIds].find(([, id]) => id === (err as { detail?: string }).detail)?.[0];
  return new AppError('insufficient_funds', 'Not enough funds for this operation', code ? [{ field: 'account', message: code }] : undefined, { cause: err });
}

/** Rows per multi-row insert: far below Postgres' 65,535 bind parameters per statement. */
const ROWS_PER_INSERT = 1000;

/**
 * Posts many balanced entries at once, set-based, in the caller's transaction: what postEntry
 * does for one, in a handful of statements for all (a payout run reserves hundreds of creators
 * per batch). Each input is checked and keyed exactly as postEntry does it: a key posted before
 * is a replay (nothing new written) when its lines match, a conflict when they do not.
 * Postings go in account-code order across all entries, the lock order postEntry and
 * lockAccounts use, so concurrent writers do not deadlock. Returns one result per input, in order.
 */
export async function postEntries(
  tx: Tx,
  inputs: readonly PostEntryInput[],
  /** Ids of accounts the caller already holds (lockAccountRows), by code: saves creating or finding them again. */
  known?: ReadonlyMap<string, { id: string }>,
): Promise<{ entryId: string; replayed: boolean }[]> {
  if (!inputs.length) return [];
  const prepared = prepareEntries(inputs, 'postEntries');
  const refs = prepared.flatMap((p) => p.lines.map((l) => l.account));
  const accountIds = refs.every((ref) => known?.has(accountCode(ref)))
    ? new Map(refs.map((ref) => [accountCode(ref), known!.get(accountCode(ref))!.id]))
    : await ensureAccounts(tx, refs);
  const entryIds = new Map<string, string>();
  for (let from = 0; from < prepared.length; from += ROWS_PER_INSERT) {
    const chunk = prepared.slice(from, from + ROWS_PER_INSERT);
    const inserted = await tx
      .insertInto('ledger_entries')
      .values(
        chunk.map(({ input, digest }) => ({
          idempotency_key: input.idempotencyKey,
          kind: input.kind,
          description: input.description ?? '',
          refs: JSON.stringify(input.refs ?? {}),
          fingerprint: digest,
          reverses: input.reverses ?? null,
          effective_at: input.effectiveAt ?? sql<Date>`now()`,
        })),
      )
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning(['id', 'idempotency_key'])
      .execute();
    for (const row of inserted) entryIds.set(row.idempotency_key, row.id);
  }
  const replayedKeys = prepared.filter((p) => !entryIds.has(p.input.idempotencyKey)).map((p) => p.input.idempotencyKey);
  const earlier = new Map<string, { id: string; fingerprint: string }>();
  for (let from = 0; from < replayedKeys.length; from += ROWS_PER_INSERT) {
    const rows = await tx.selectFrom('ledger_entries').select(['id', 'idempotency_key', 'fingerprint']).where('idempotency_key', 'in', replayedKeys.slice(from, from + ROWS_PER_INSERT)).execute();
    for (const row of rows) earlier.set(row.idempotency_key, row);
  }
  const postings = inLockOrder(
    prepared.flatMap((p, index) => (entryIds.has(p.input.idempotencyKey) ? p.lines.map((line) => ({ line, index, entryId: entryIds.get(p.input.idempotencyKey)! })) : [])),
  );
  try {
    for (let from = 0; from < postings.length; from += ROWS_PER_INSERT) {
      await tx
        .insertInto('ledger_postings')
        .values(
          postings.slice(from, from + ROWS_PER_INSERT).map(({ line, entryId }) => ({
            entry_id: entryId,
            account_id: accountIds.get(accountCode(line.account))!,
            currency: line.account.currency,
            side: line.side,
            amount: line.amount.toString(),
          })),
        )
        .execute();
    }
  } catch (err) {
    throw ledgerError(err, accountIds);
  }
  return prepared.map(({ input, digest }) => {
    const inserted = entryIds.get(input.idempotencyKey);
    if (inserted) return { entryId: inserted, replayed: false };
    const existing = earlier.get(input.idempotencyKey)!;
    if (existing.fingerprint !== digest) throw new AppError('conflict', 'This idempotency key was already used for a different operation');
    return { entryId: existing.id, replayed: true };
  });
}

async function replay(executor: Db | Tx, key: string, digest: string, accountIds: Map<string, string>): Promise<PostedEntry> {
  const existing = await executor.selectFrom('ledger_entries').select(['id', 'fingerprint']).where('idempotency_key', '=', key).executeTakeFirstOrThrow();
  if (existing.fingerprint !== digest) {
    throw new AppError('conflict', 'This idempotency key was already used for a different operation');
  }
  const rows = await selectAccounts(executor).where('id', 'in', [...accountIds.values()]).execute();
  return { entryId: existing.id, replayed: true, balances: new Map(rows.map((r) => [r.code, toAccount(r).balance])) };
}

function inTransaction<T>(executor: Db | Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  return executor.isTransaction ? work(executor as Tx) : executor.transaction().execute(work);
}

// Account ids by code, per database, of accounts known to be committed. An account is never
// deleted and its code never changes, so a known id stays right for the life of the process;
// one created by a transaction that may still roll back is not remembered until seen again.
const knownIds = new WeakMap<object, Map<string, string>>();
const MAX_KNOWN_ACCOUNTS = 100_000;

/** Keyed by the query adapter a database shares with its transactions. */
const knownOf = (executor: Db | Tx) => {
  const key = executor.getExecutor().adapter;
  let known = knownIds.get(key);
  if (!known) knownIds.set(key, (known = new Map()));
  return known;
};

function knownAccountIds(executor: Db | Tx, refs: readonly AccountRef[]): Map<string, string> | undefined {
  const known = knownOf(executor);
  const ids = new Map<string, string>();
  for (const ref of refs) {
    const code = accountCode(ref);
    const id = known.get(code);
    if (id === undefined) return undefined;
    ids.set(code, id);
  }
  return ids;
}

/** Account ids by code, creating missing accounts (idempotently) in one statement. */
export async function ensureAccounts(executor: Db | Tx, refs: readonly AccountRef[]): Promise<Map<string, string>> {
  const unique = new Map(refs.map((ref) => [accountCode(ref), ref]));
  const values = [...unique].map(([code, ref]) => {
    const rule = kindRule(ref.kind);
    return sql`(${code}, ${ref.kind}, ${ref.owner === 'platform' ? null : ref.owner}::uuid, ${ref.currency}, ${rule.normalSide},
      ${rule.limit === 'debits_must_not_exceed_credits'}, ${rule.limit === 'credits_must_not_exceed_debits'}, ${isSharded(ref.kind)})`;
  });
  const codes = [...unique.keys()];
  // `committed`: created before this transaction began, so not by it (created_at is the creating
  // transaction's start) and, being visible, committed: safe to remember.
  const { rows } = await sql<{ id: string; code: string; committed: boolean }>`
    with created as (
      insert into ledger_accounts (code, kind, owner_id, currency, normal_side, debits_must_not_exceed_credits, credits_must_not_exceed_debits, sharded)
      values ${sql.join(values)}
      on conflict (code) do nothing
      returning id, code
    )
    select id, code, false as committed from created
    union all
    select id, code, created_at < now() as committed from ledger_accounts where code in (${sql.join(codes)})`.execute(executor);
  const known = knownOf(executor);
  for (const row of rows) {
    if (!row.committed || known.has(row.code)) continue;
    if (known.size >= MAX_KNOWN_ACCOUNTS) known.delete(known.keys().next().value!);
    known.set(row.code, row.id);
  }
  const ids = new Map(rows.map((r) => [r.code, r.id]));
  // An account another transaction was creating at the same moment: our insert waited for its
  // commit and skipped the row, but this statement's snapshot predates that commit. A new
  // statement sees it.
  const missing = codes.filter((code) => !ids.has(code));
  if (missing.length) {
    const late = await executor.selectFrom('ledger_accounts').select(['id', 'code']).where('code', 'in', missing).execute();
    for (const r of late) ids.set(r.code, r.id);
  }
  return ids;
}

export interface Account {
  id: string;
  code: string;
  kind: AccountKind;
  ownerId: string | null;
  currency: string;
  normalSide: Side;
  limit: 'debits_must_not_exceed_credits' | 'credits_must_not_exceed_debits' | null;
  debitsPosted: bigint;
  creditsPosted: bigint;
  /** On the account's normal side. */
  balance: bigint;
  createdAt: Date;
}

const selectAccounts = (executor: Db | Tx) =>
  executor
    .selectFrom('ledger_accounts')
    .select([
      'id',
      'code',
      'kind',
      'owner_id',
      'currency',
      'normal_side',
      'debits_must_not_exceed_credits',
      'credits_must_not_exceed_debits',
      sql<string>`(debits_posted + coalesce((select sum(s.debits_posted) from ledger_account_shards s where s.account_id = ledger_accounts.id), 0))::text`.as('debits_posted'),
      sql<string>`(credits_posted + coalesce((select sum(s.credits_posted) from ledger_account_shards s where s.account_id = ledger_accounts.id), 0))::text`.as('credits_posted'),
      'created_at',
    ]);

type AccountRow = Awaited<ReturnType<ReturnType<typeof selectAccounts>['executeTakeFirstOrThrow']>>;

function toAccount(row: AccountRow): Account {
  const debits = BigInt(row.debits_posted);
  const credits = BigInt(row.credits_posted);
  const normalSide = row.normal_side as Side;
  return {
    id: row.id,
    code: row.code,
    kind: row.kind as AccountKind,
    ownerId: row.owner_id,
    currency: row.currency,
    normalSide,
    limit: row.debits_must_not_exceed_credits ? 'debits_must_not_exceed_credits' : row.credits_must_not_exceed_debits ? 'credits_must_not_exceed_debits' : null,
    debitsPosted: debits,
    creditsPosted: credits,
    balance: normalBalance(normalSide, debits, credits),
    createdAt: row.created_at,
  };
}

export async function getAccount(executor: Db | Tx, id: string): Promise<Account | undefined> {
  const row = await selectAccounts(executor).where('id', '=', id).executeTakeFirst();
  return row && toAccount(row);
}

/** The accounts that exist among `refs`, by code (an account never posted to does not exist yet). */
export async function findAccounts(executor: Db | Tx, refs: readonly AccountRef[]): Promise<Map<string, Account>> {
  if (refs.length === 0) return new Map();
  const rows = await selectAccounts(executor).where('code', 'in', refs.map(accountCode)).execute();
  return new Map(rows.map((row) => [row.code, toAccount(row)]));
}

/** Balances by account code; an account never posted to reads 0 (and is not created). */
export async function balancesOf(executor: Db | Tx, refs: readonly AccountRef[]): Promise<Map<string, bigint>> {
  const codes = refs.map(accountCode);
  const balances = new Map(codes.map((code) => [code, 0n]));
  if (codes.length === 0) return balances;
  for (const row of await selectAccounts(executor).where('code', 'in', codes).execute()) balances.set(row.code, toAccount(row).balance);
  return balances;
}

/**
 * Locks accounts (creating missing ones) for a read-then-post decision inside the caller's
 * transaction, such as "take a refund from pending first, then available". Locks are taken
 * in account-code order, the same order postEntry's inserts take them, so no deadlock.
 */
export async function lockAccounts(tx: Tx, refs: readonly AccountRef[]): Promise<Map<string, bigint>> {
  return new Map([...(await lockAccountRows(tx, refs))].map(([code, a]) => [code, a.balance]));
}

/** lockAccounts with each account's id too, for postEntries' `known`. */
export async function lockAccountRows(tx: Tx, refs: readonly AccountRef[]): Promise<Map<string, { id: string; balance: bigint }>> {
  await ensureAccounts(tx, refs);
  const rows = await selectAccounts(tx)
    .where('code', 'in', refs.map(accountCode))
    .orderBy('code')
    .forUpdate()
    .execute();
  return new Map(rows.map((r) => [r.code, { id: r.id, balance: toAccount(r).balance }]));
}

export interface Posting {
  id: string;
  entryId: string;
  accountId: string;
  currency: string;
  side: Side;
  amount: bigint;
  /** Null on sharded (platform) accounts, whose balance is the sum of their shards. */
  balanceAfter: bigint | null;
  createdAt: Date;
  kind: string;
  idempotencyKey: string;
  refs: Record<string, string>;
  effectiveAt: Date;
}

/**
 * Postings of one account, or of several merged (a creator's pending, available and
 * reserved), newest first by keyset on the posting id; optionally only entries of one kind.
 * Each account is read down its own (account, id) index range, so a page costs `limit` rows
 * per account however long the history.
 */
export async function accountPostings(
  executor: Db | Tx,
  accountIds: string | readonly string[],
  page: { limit: number; beforeId?: string; kind?: string },
): Promise<Posting[]> {
  const ids = typeof accountIds === 'string' ? [accountIds] : [...accountIds];
  if (ids.length === 0) return [];
  const ranges = ids.map(
    (id) => sql`(select p.id from ledger_postings p
      ${page.kind === undefined ? sql`` : sql`join ledger_entries e on e.id = p.entry_id and e.kind = ${page.kind}`}
      where p.account_id = ${id} ${page.beforeId === undefined ? sql`` : sql`and p.id < ${page.beforeId}::bigint`}
      order by p.id desc limit ${page.limit})`,
  );
  const { rows } = await sql<{
    id: string;
    entry_id: string;
    account_id: string;
    currency: string;
    side: Side;
    amount: string;
    balance_after: string | null;
    created_at: Date;
    kind: string;
    idempotency_key: string;
    refs: Record<string, string>;
    effective_at: Date;
  }>`
    select p.id::text as id, p.entry_id, p.account_id, p.currency, p.side, p.amount::text as amount,
           p.balance_after::text as balance_after, p.created_at, e.kind, e.idempotency_key, e.refs, e.effective_at
    from (select id from (${sql.join(ranges, sql` union all `)}) ranges order by id desc limit ${page.limit}) page
    join ledger_postings p on p.id = page.id
    join ledger_entries e on e.id = p.entry_id
    order by p.id desc`.execute(executor);
  return rows.map((r) => ({
    id: r.id,
    entryId: r.entry_id,
    accountId: r.account_id,
    currency: r.currency,
    side: r.side,
    amount: BigInt(r.amount),
    balanceAfter: r.balance_after === null ? null : BigInt(r.balance_after),
    createdAt: r.created_at,
    kind: r.kind,
    idempotencyKey: r.idempotency_key,
    refs: r.refs,
    effectiveAt: r.effective_at,
  }));
}

export interface TrialBalanceLine {
  currency: string;
  debits: bigint;
  credits: bigint;
  /** Debits − credits over every account: zero when the ledger is whole. */
  difference: bigint;
}

/** Every account's running totals, sharded ones summed. */
const accountTotals = sql`(
  select a.id, a.code, a.currency,
         a.debits_posted + coalesce(sum(s.debits_posted), 0) as debits_posted,
         a.credits_posted + coalesce(sum(s.credits_posted), 0) as credits_posted
  from ledger_accounts a left join ledger_account_shards s on s.account_id = a.id
  group by a.id)`;

/** Per currency, the sum of all accounts' posted debits and credits (from the running totals). */
export async function trialBalance(executor: Db | Tx): Promise<TrialBalanceLine[]> {
  const { rows } = await sql<{ currency: string; debits: string; credits: string }>`
    select currency, sum(debits_posted)::text as debits, sum(credits_posted)::text as credits
    from ${accountTotals} t group by currency order by currency`.execute(executor);
  return rows.map((r) => ({ currency: r.currency, debits: BigInt(r.debits), credits: BigInt(r.credits), difference: BigInt(r.debits) - BigInt(r.credits) }));
}

/**
 * Accounts whose running totals differ from the sum of their postings (a full scan: for
 * tests, benches and operators' checks, not for request paths). Empty when the ledger is whole.
 */
export async function auditAccounts(executor: Db | Tx): Promise<{ code: string; totals: [bigint, bigint]; postings: [bigint, bigint] }[]> {
  const { rows } = await sql<{ code: string; debits_posted: string; credits_posted: string; debits: string; credits: string }>`
    select a.code, a.debits_posted::text, a.credits_posted::text,
           coalesce(sum(p.amount) filter (where p.side = 'debit'), 0)::text as debits,
           coalesce(sum(p.amount) filter (where p.side = 'credit'), 0)::text as credits
    from ${accountTotals} a left join ledger_postings p on p.account_id = a.id
    group by a.id, a.code, a.debits_posted, a.credits_posted
    having a.debits_posted <> coalesce(sum(p.amount) filter (where p.side = 'debit'), 0)
        or a.credits_posted <> coalesce(sum(p.amount) filter (where p.side = 'credit'), 0)`.execute(executor);
  return rows.map((r) => ({ code: r.code, totals: [BigInt(r.debits_posted), BigInt(r.credits_posted)], postings: [BigInt(r.debits), BigInt(r.credits)] }));
}

export interface Entry {
  id: string;
  idempotencyKey: string;
  kind: string;
  description: string;
  refs: Record<string, string>;
  reverses: string | null;
  effectiveAt: Date;
  createdAt: Date;
  /** Postgres' own text of created_at, for keyset cursors (a Date drops microseconds). */
  createdAtKey: string;
  postings: { accountId: string; accountCode: string; currency: string; side: Side; amount: bigint }[];
}

/** Entries newest first (keyset on created_at, id), each with its postings. */
export async function listEntries(
  executor: Db | Tx,
  page: { limit: number; before?: { at: string; id: string }; kind?: string },
): Promise<Entry[]> {
  let query = executor
    .selectFrom('ledger_entries')
    .select(['id', 'idempotency_key', 'kind', 'description', 'refs', 'reverses', 'effective_at', 'created_at', sql<string>`created_at::text`.as('created_at_key')]);
  if (page.kind !== undefined) query = query.where('kind', '=', page.kind);
  if (page.before) query = query.where(sql<boolean>`(created_at, id) < (${page.before.at}::timestamptz, ${page.before.id}::uuid)`);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
  if (rows.length === 0) return [];
  const postings = await executor
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', 'a.id', 'p.account_id')
    .select(['p.entry_id', 'p.account_id', 'a.code', 'p.currency', 'p.side', sql<string>`p.amount::text`.as('amount')])
    .where('p.entry_id', 'in', rows.map((r) => r.id))
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    idempotencyKey: r.idempotency_key,
    kind: r.kind,
    description: r.description,
    refs: r.refs,
    reverses: r.reverses,
    effectiveAt: r.effective_at,
    createdAt: r.created_at,
    createdAtKey: r.created_at_key,
    postings: postings
      .filter((p) => p.entry_id === r.id)
      .map((p) => ({ accountId: p.account_id, accountCode: p.code, currency: p.currency, side: p.side as Side, amount: BigInt(p.amount) })),
  }));
}

/** Accounts by code order (keyset on code), optionally of one owner and/or kind. */
export async function listAccounts(executor: Db | Tx, filter: { limit: number; afterCode?: string; ownerId?: string; kind?: string; currency?: string }): Promise<Account[]> {
  let query = selectAccounts(executor);
  if (filter.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  if (filter.currency !== undefined) query = query.where('currency', '=', filter.currency);
  if (filter.afterCode !== undefined) query = query.where('code', '>', filter.afterCode);
  return (await query.orderBy('code').limit(filter.limit).execute()).map(toAccount);
}
