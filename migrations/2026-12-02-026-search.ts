import { sql, type Kysely } from 'kysely';

// Search (GET /search) over videos, live streams and channels. Each table gets a stored
// tsvector of what search weighs (title A, tags B, description C; a channel's names A, its
// bio C), accent-folded so "cafe" finds "Café", and a trigram index on the folded title or
// names for typo tolerance. Every index is partial on exactly what search may show, so a
// query never reads a row it would throw away and the indexes stay the size of the public
// catalogue. The predicates must match api/search/service.ts word for word (the planner
// only uses a partial index whose predicate the query implies). Frozen once landed.

const visibleVideo = sql`status = 'ready' and visibility = 'public' and deleted_at is null and moderation_hidden_at is null`;
const liveStream = sql`status in ('live', 'reconnecting') and visibility = 'public'`;
const listedUser = sql`status <> 'banned' and deleted_at is null`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create extension if not exists unaccent`.execute(db);
  // unaccent() is only stable (its dictionary could be swapped); naming the dictionary makes
  // it safe to call from generated columns and index expressions.
  await sql`create function search_fold(text) returns text language sql immutable strict parallel safe
    as $$ select public.unaccent('public.unaccent'::regdictionary, $1) $$`.execute(db);
  await sql`create function search_fold(text[]) returns text language sql immutable strict parallel safe
    as $$ select public.unaccent('public.unaccent'::regdictionary, array_to_string($1, ' ')) $$`.execute(db);

  await sql`alter table videos add column search_document tsvector generated always as (
      setweight(to_tsvector('simple', search_fold(title)), 'A') ||
      setweight(to_tsvector('simple', search_fold(tags)), 'B') ||
      setweight(to_tsvector('simple', search_fold(description)), 'C')) stored`.execute(db);
  await sql`create index videos_search_idx on videos using gin (search_document) where ${visibleVideo}`.execute(db);
  // Exact matches are ranked among the most viewed (or newest: videos_public_recent_idx) first.
  await sql`create index videos_public_views_idx on videos (view_count desc, id desc) where ${visibleVideo}`.execute(db);
  await sql`create index videos_title_trgm_idx on videos using gin (search_fold(title) gin_trgm_ops) where ${visibleVideo}`.execute(db);

  await sql`alter table streams add column search_document tsvector generated always as (
      setweight(to_tsvector('simple', search_fold(title)), 'A') ||
      setweight(to_tsvector('simple', search_fold(description)), 'C')) stored`.execute(db);
  await sql`create index streams_search_idx on streams using gin (search_document) where ${liveStream}`.execute(db);
  await sql`create index streams_title_trgm_idx on streams using gin (search_fold(title) gin_trgm_ops) where ${liveStream}`.execute(db);

  await sql`alter table users add column search_document tsvector generated always as (
      setweight(to_tsvector('simple', search_fold(username || ' ' || display_name)), 'A') ||
      setweight(to_tsvector('simple', search_fold(bio)), 'C')) stored`.execute(db);
  await sql`create index users_search_idx on users using gin (search_document) where ${listedUser}`.execute(db);
  await sql`create index users_listed_followers_idx on users (follower_count desc, id desc) where ${listedUser}`.execute(db);
  await sql`create index users_names_trgm_idx on users using gin (search_fold(username || ' ' || display_name) gin_trgm_ops) where ${listedUser}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Dropping search_document drops its GIN index; the trigram indexes go with search_fold.
  for (const table of ['videos', 'streams', 'users']) await sql`alter table ${sql.table(table)} drop column search_document`.execute(db);
  await sql`drop index videos_public_views_idx, users_listed_followers_idx`.execute(db);
  await sql`drop function search_fold(text), search_fold(text[]) cascade`.execute(db);
}
