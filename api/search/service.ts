import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../lib/db.ts';

export type SearchKind = 'video' | 'stream' | 'channel';
export type SearchType = SearchKind | 'all';
export type SearchSort = 'relevance' | 'newest' | 'views';
/** `exact`: full-text matches (words, the last one also as a prefix); `typo`: trigram-only matches. */
export type SearchTier = 'exact' | 'typo';

/** Words of a query at most; the rest are ignored. */
export const MAX_SEARCH_WORDS = 8;
/** The last word is matched as a prefix (as-you-type) from this many characters on. */
export const PREFIX_MIN_CHARS = 3;
/** Results one query pages through at most: relevance has no stable key, so pages are offsets. */
export const MAX_SEARCH_RESULTS = 300;
/** Exact matches of one kind ranked per query at most (see rankQuery). */
export const CANDIDATES = 300;
/** Queries shorter than this (letters and digits) get no typo tier: "mi" is "similar" to half the titles. */
export const TYPO_MIN_CHARS = 4;
/** word_similarity a title or channel name needs to count as a typo match (pg_trgm's default, 0.6, misses "minecarft" → "minecraft", 0.5). */
export const TYPO_THRESHOLD = 0.4;
/** Weights of ts_rank for D, C, B, A: title (A) 1, tags (B) 0.4, description or bio (C) 0.2. */
const RANK_WEIGHTS = '{0.1, 0.2, 0.4, 1.0}';

export interface SearchTerms {
  /** Lower-cased words: letters and digits, nothing else, so they cannot carry tsquery syntax. */
  words: string[];
  /** `word & word & last:*` for to_tsquery. */
  tsquery: string;
  /** The words joined by spaces, for trigram similarity. */
  text: string;
}

/** Undefined when the query has no letter or digit (it can match nothing). */
export function searchTerms(q: string): SearchTerms | undefined {
  const words = (q.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_SEARCH_WORDS);
  const last = words.at(-1);
  if (last === undefined) return undefined;
  const prefix = [...last].length >= PREFIX_MIN_CHARS ? ':*' : '';
  return { words, tsquery: `${words.join(' & ')}${prefix}`, text: words.join(' ') };
}

interface Source {
  kind: SearchKind;
  table: string;
  /** What search may show: must stay the predicate of the partial indexes (migration 026). */
  visible: RawBuilder<unknown>;
  /** The folded text trigram similarity compares the query with (its index expression). */
  name: RawBuilder<unknown>;
  at: RawBuilder<unknown>;
  popularity: RawBuilder<unknown>;
  category: RawBuilder<unknown> | undefined;
}

// Reading rules: a video as anyone may see it in a list (api/videos/service.ts listVideos), a
// stream as GET /streams lists it while it is on air, a channel unless banned or deleted.
const sources: Record<SearchKind, Source> = {
  video: {
    kind: 'video',
    table: 'videos',
    visible: sql`status = 'ready' and visibility = 'public' and deleted_at is null and moderation_hidden_at is null`,
    name: sql`search_fold(title)`,
    at: sql`created_at`,
    popularity: sql`view_count`,
    category: sql`category_id`,
  },
  stream: {
    kind: 'stream',
    table: 'streams',
    visible: sql`status in ('live', 'reconnecting') and visibility = 'public'`,
    name: sql`search_fold(title)`,
    at: sql`coalesce(started_at, created_at)`,
    popularity: sql`current_viewers`,
    category: sql`category_id`,
  },
  channel: {
    kind: 'channel',
    table: 'users',
    visible: sql`status <> 'banned' and deleted_at is null`,
    name: sql`search_fold(username || ' ' || display_name)`,
    at: sql`created_at`,
    popularity: sql`follower_count`,
    category: undefined,
  },
};

export interface SearchFilter {
  type: SearchType;
  /** Channels have no category: with one, only videos and streams are searched. */
  categoryId?: string;
  sort: SearchSort;
}

export interface SearchRow {
  kind: SearchKind;
  id: string;
  tier: SearchTier;
  score: number;
}

/**
 * The ranking, in one place. Exact tier: ts_rank with RANK_WEIGHTS over the stored document,
 * so a word in the title outranks the same word in tags, and tags outrank the description.
 * Typo tier: word_similarity of the query with the title (or the channel's names), which is
 * at most 1; it is only searched after every exact match was served, so a typo match never
 * ranks above an exact one. Ties: popularity (views, viewers now, followers), then id.
 *
 * Exact matches are ranked among the CANDIDATES most popular (or, sorting by newest, the
 * newest) ones of each kind: a word in half the catalogue would otherwise cost a ts_rank per
 * matching row. The partial btree indexes on popularity and age let Postgres walk matches in
 * that order and stop, and a rarer word is read through the GIN index instead. Sorting by
 * views or newest, pages are therefore exact (MAX_SEARCH_RESULTS ≤ CANDIDATES).
 */
async function rankQuery(db: Db, tier: SearchTier, terms: SearchTerms, filter: SearchFilter, limit: number, offset: number) {
  const tsquery = sql`to_tsquery('simple', search_fold(${terms.tsquery}))`;
  const text = sql`search_fold(${terms.text})`;
  const kinds = filter.type === 'all' ? (['video', 'stream', 'channel'] as const) : [filter.type];
  const parts = kinds
    .map((kind) => sources[kind])
    .filter((s) => !filter.categoryId || s.category)
    .map((s) => {
      const category = filter.categoryId && s.category ? sql`and ${s.category} = ${filter.categoryId}::uuid` : sql``;
      if (tier === 'exact') {
        const candidateOrder = filter.sort === 'newest' ? s.at : s.popularity;
        return sql`select ${s.kind}::text as kind, id, ts_rank(${RANK_WEIGHTS}, search_document, ${tsquery})::float8 as score, at, popularity from (
            select id, search_document, ${s.at} as at, ${s.popularity}::float8 as popularity from ${sql.table(s.table)}
            where ${s.visible} and search_document @@ ${tsquery} ${category}
            order by ${candidateOrder} desc, id desc limit ${CANDIDATES}) candidates`;
      }
      // `%>`: word_similarity(query, name) above pg_trgm.word_similarity_threshold, by the trigram index.
      return sql`select ${s.kind}::text as kind, id, word_similarity(${text}, ${s.name})::float8 as score, ${s.at} as at, ${s.popularity}::float8 as popularity
        from ${sql.table(s.table)} where ${s.visible} and ${s.name} %> ${text} and not (search_document @@ ${tsquery}) ${category}`;
    });
  if (parts.length === 0) return [];
  const order = {
    relevance: sql`score desc, popularity desc, kind, id desc`,
    newest: sql`at desc, kind, id desc`,
    views: sql`popularity desc, score desc, kind, id desc`,
  }[filter.sort];
  const ranked = sql<{ kind: SearchKind; id: string; score: number }>`
    select kind, id, score from (${sql.join(parts, sql` union all `)}) hits
    order by ${order} limit ${limit} offset ${offset}`;
  const run = async (on: Db) => (await ranked.execute(on)).rows.map((row) => ({ ...row, tier }));
  if (tier === 'exact') return run(db);
  // The operator reads its threshold from a setting; `set local` keeps it to this transaction.
  return db.transaction().execute(async (tx) => {
    await sql`select set_config('pg_trgm.word_similarity_threshold', ${String(TYPO_THRESHOLD)}, true)`.execute(tx);
    return run(tx);
  });
}

export interface SearchPosition {
  tier: SearchTier;
  /** Rows of this tier already served. */
  offset: number;
  /** Rows of every tier already served (bounded by MAX_SEARCH_RESULTS). */
  served: number;
}

/**
 * One page of results: exact matches first, then, once those run out, typo matches. So a
 * query with a page of exact matches never pays for the trigram search, and as-you-type
 * costs one indexed full-text query per keystroke. Fetches `limit + 1` to know whether a
 * next page exists.
 */
export async function searchPage(db: Db, terms: SearchTerms, filter: SearchFilter, limit: number, from: SearchPosition = { tier: 'exact', offset: 0, served: 0 }) {
  const room = Math.min(limit, MAX_SEARCH_RESULTS - from.served);
  if (room <= 0) return { rows: [], next: undefined };
  const rows: SearchRow[] = [];
  let next: SearchPosition | undefined;
  if (from.tier === 'exact') {
    const exact = await rankQuery(db, 'exact', terms, filter, room + 1, from.offset);
    rows.push(...exact.slice(0, room));
    if (exact.length > room) next = { tier: 'exact', offset: from.offset + room, served: from.served + room };
  }
  if (!next && [...terms.text].length >= TYPO_MIN_CHARS) {
    const start = from.tier === 'typo' ? from.offset : 0;
    const want = room - rows.length;
    const typo = await rankQuery(db, 'typo', terms, filter, want + 1, start);
    rows.push(...typo.slice(0, want));
    if (typo.length > want) next = { tier: 'typo', offset: start + want, served: from.served + room };
  }
  if (next && next.served >= MAX_SEARCH_RESULTS) next = undefined;
  return { rows, next };
}

/** What a results page shows of each hit, in one query per kind present on the page. */
export async function loadHits(db: Db, rows: readonly SearchRow[]) {
  const ids = (kind: SearchKind) => rows.filter((r) => r.kind === kind).map((r) => r.id);
  const [videoIds, streamIds, channelIds] = [ids('video'), ids('stream'), ids('channel')];
  const channelColumns = ['users.username', 'users.display_name'] as const;
  const [videos, streams, channels] = await Promise.all([
    videoIds.length === 0
      ? []
      : db
          .selectFrom('videos')
          .innerJoin('users', 'users.id', 'videos.owner_id')
          .select(['videos.id', 'videos.owner_id', 'videos.title', 'videos.description', 'videos.tags', 'videos.category_id', 'videos.duration_seconds', 'videos.view_count', 'videos.like_count', 'videos.poster_key', 'videos.created_at', ...channelColumns])
          .where('videos.id', 'in', videoIds)
          .execute(),
    streamIds.length === 0
      ? []
      : db
          .selectFrom('streams')
          .innerJoin('users', 'users.id', 'streams.owner_id')
          .select(['streams.id', 'streams.owner_id', 'streams.title', 'streams.category_id', 'streams.status', 'streams.current_viewers', 'streams.started_at', ...channelColumns])
          .where('streams.id', 'in', streamIds)
          .execute(),
    channelIds.length === 0
      ? []
      : db.selectFrom('users').select(['id', 'username', 'display_name', 'avatar_url', 'follower_count']).where('id', 'in', channelIds).execute(),
  ]);
  return { videos: new Map(videos.map((v) => [v.id, v])), streams: new Map(streams.map((s) => [s.id, s])), channels: new Map(channels.map((u) => [u.id, u])) };
}
