import { sql, type SqlBool } from 'kysely';
import type { Db, Tx } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { evenKeys, keyBetween, MAX_KEY_LENGTH, MAX_PLAYLIST_ITEMS, MAX_PLAYLISTS_PER_USER, type Placement } from '../../lib/playlist-order.ts';
import type { PlaylistVisibility } from '../../lib/schema.ts';
import type { AuthContext } from '../context.ts';

export type PlaylistRow = Awaited<ReturnType<ReturnType<typeof playlistQuery>['execute']>>[number];

const WATCH_LATER_TITLE = 'Watch later';

/** A playlist this caller may read: any public or unlisted one, a private one only its owner's; 404 otherwise. */
export async function findReadablePlaylist(db: Db, id: string, auth: AuthContext | undefined): Promise<PlaylistRow> {
  const row = await byId(db, id);
  if (!row || (row.visibility === 'private' && row.owner_id !== auth?.userId)) throw new AppError('not_found', 'No such playlist');
  return row;
}

/** A playlist this caller owns: 404 if they may not read it, 403 if they may only read it. */
export async function findOwnPlaylist(db: Db, id: string, auth: AuthContext | undefined): Promise<PlaylistRow> {
  const row = await findReadablePlaylist(db, id, auth);
  if (row.owner_id !== auth?.userId) throw new AppError('forbidden', 'Only the owner can change a playlist');
  return row;
}

const byId = (db: Db, id: string) => playlistQuery(db).where('p.id', '=', id).executeTakeFirst();

/** Playlists with their item count (every item, seen or not) and, when asked, whether they hold `videoId`. */
function playlistQuery(db: Db | Tx, videoId?: string) {
  return db
    .selectFrom('playlists as p')
    .selectAll('p')
    .select(sql<string>`p.created_at::text`.as('created_key'))
    .select(sql<number>`(select count(*)::int from playlist_items i where i.playlist_id = p.id)`.as('item_count'))
    .select(
      videoId === undefined
        ? sql<boolean | null>`null::boolean`.as('has_video')
        : sql<boolean | null>`exists (select from playlist_items i where i.playlist_id = p.id and i.video_id = ${videoId}::uuid)`.as('has_video'),
    );
}

/**
 * One owner's playlists, newest first: their public ones, or with `all` (the owner asking)
 * every one, watch later included once it exists.
 */
export function listPlaylists(db: Db, ownerId: string, all: boolean, limit: number, after: { at: string; id: string } | undefined, videoId?: string) {
  let query = playlistQuery(db, videoId).where('p.owner_id', '=', ownerId);
  if (!all) query = query.where('p.visibility', '=', 'public');
  if (after) query = query.where(sql<boolean>`(p.created_at, p.id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  return query.orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(limit + 1).execute();
}

export interface PlaylistFields {
  title: string;
  description: string;
  visibility: PlaylistVisibility;
}

/**
 * Creates a playlist, at most MAX_PLAYLISTS_PER_USER per user (watch later not counted). The
 * owner's row lock makes the count and the insert one step, so racing creates cannot pass it.
 */
export async function createPlaylist(db: Db, ownerId: string, fields: PlaylistFields): Promise<PlaylistRow> {
  const id = await db.transaction().execute(async (tx) => {
    await tx.selectFrom('users').select('id').where('id', '=', ownerId).forUpdate().executeTakeFirstOrThrow();
    const { n } = await tx
      .selectFrom('playlists')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('owner_id', '=', ownerId)
      .where('kind', '=', 'regular')
      .executeTakeFirstOrThrow();
    if (Number(n) >= MAX_PLAYLISTS_PER_USER) {
      throw new AppError('limit_reached', `You have ${MAX_PLAYLISTS_PER_USER} playlists, the most one user may have; delete one first`, {
        limit: MAX_PLAYLISTS_PER_USER,
      });
    }
    const row = await tx.insertInto('playlists').values({ owner_id: ownerId, ...fields }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  });
  return (await byId(db, id))!;
}

function refuseWatchLater(row: PlaylistRow, what: string): void {
  if (row.kind === 'watch_later') throw new AppError('forbidden', `Watch later is built in: it cannot be ${what}`);
}

export async function updatePlaylist(db: Db, row: PlaylistRow, changes: Partial<PlaylistFields>): Promise<PlaylistRow> {
  refuseWatchLater(row, 'renamed, described or shared');
  await db
    .updateTable('playlists')
    .set({ ...changes, updated_at: sql`now()` })
    .where('id', '=', row.id)
    .execute();
  const updated = await byId(db, row.id);
  if (!updated) throw new AppError('not_found', 'No such playlist');
  return updated;
}

export async function deletePlaylist(db: Db, row: PlaylistRow): Promise<void> {
  refuseWatchLater(row, 'deleted');
  await db.deleteFrom('playlists').where('id', '=', row.id).execute();
}

/** The user's watch later playlist, created (private) on first use; racing first uses create one. */
export async function watchLater(db: Db, userId: string): Promise<PlaylistRow> {
  await sql`
    insert into playlists (owner_id, kind, title, visibility) values (${userId}, 'watch_later', ${WATCH_LATER_TITLE}, 'private')
    on conflict (owner_id) where kind = 'watch_later' do nothing`.execute(db);
  return playlistQuery(db).where('p.owner_id', '=', userId).where('p.kind', '=', 'watch_later').executeTakeFirstOrThrow();
}

/**
 * Every write to a playlist's items takes the playlist's row lock first: writers of one
 * playlist queue, so two moves into the same gap read each other's key and never pick the
 * same one (the unique (playlist_id, position) constraint is the backstop), and the item
 * limit is counted with nothing added behind its back. 404 when the playlist is gone.
 */
async function lockPlaylist(tx: Tx, playlistId: string): Promise<void> {
  const row = await tx.selectFrom('playlists').select('id').where('id', '=', playlistId).forUpdate().executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such playlist');
}

async function positionOf(tx: Tx, playlistId: string, videoId: string): Promise<string | undefined> {
  const row = await tx.selectFrom('playlist_items').select('position').where('playlist_id', '=', playlistId).where('video_id', '=', videoId).executeTakeFirst();
  return row?.position;
}

/** Keys are compared bytewise: `collate "C"` on every comparison, whatever the database's default. */
const pos = sql.raw('position collate "C"');

/** The key for `placement` among the playlist's items, `moving` (when it is already in) left out. */
async function placementKey(tx: Tx, playlistId: string, placement: Placement, moving?: string): Promise<string> {
  let lower: string | null;
  let upper: string | null;
  const notMoving = moving === undefined ? sql<SqlBool>`true` : sql<SqlBool>`video_id <> ${moving}`;
  if ('at' in placement) {
    const last = await sql<{ position: string | null }>`select max(${pos}) as position from playlist_items where playlist_id = ${playlistId} and ${notMoving}`.execute(tx);
    lower = last.rows[0]?.position ?? null;
    upper = null;
  } else {
    const anchorId = 'before' in placement ? placement.before : placement.after;
    if (anchorId === moving) throw new AppError('validation_failed', 'An item cannot move next to itself', [{ field: 'before', message: 'names the moved video' }]);
    const anchor = await positionOf(tx, playlistId, anchorId);
    if (anchor === undefined) throw new AppError('not_found', `Video ${anchorId} is not in this playlist`);
    const neighbour = 'before' in placement
      ? sql<{ position: string | null }>`select max(${pos}) as position from playlist_items where playlist_id = ${playlistId} and ${pos} < ${anchor} and ${notMoving}`
      : sql<{ position: string | null }>`select min(${pos}) as position from playlist_items where playlist_id = ${playlistId} and ${pos} > ${anchor} and ${notMoving}`;
    const other = (await neighbour.execute(tx)).rows[0]?.position ?? null;
    [lower, upper] = 'before' in placement ? [other, anchor] : [anchor, other];
  }
  const key = keyBetween(lower, upper);
  if (key.length <= MAX_KEY_LENGTH) return key;
  await respace(tx, playlistId);
  return placementKey(tx, playlistId, placement, moving);
}

/** Gives every item a short key, in the same order (one statement; the unique constraint is checked at its end). */
async function respace(tx: Tx, playlistId: string): Promise<void> {
  const { n } = await tx.selectFrom('playlist_items').select((eb) => eb.fn.countAll<string>().as('n')).where('playlist_id', '=', playlistId).executeTakeFirstOrThrow();
  await sql`
    update playlist_items i set position = k.position
    from (select video_id, row_number() over (order by ${pos}) as n from playlist_items where playlist_id = ${playlistId}) r,
      unnest(${evenKeys(Number(n))}::text[]) with ordinality as k(position, n)
    where i.playlist_id = ${playlistId} and i.video_id = r.video_id and k.n = r.n`.execute(tx);
}

/**
 * Adds a video (the caller checked it may see it) where `placement` says; a video already
 * in the playlist stays where it is (`added: false`). At most MAX_PLAYLIST_ITEMS items.
 */
export async function addItem(db: Db, playlistId: string, videoId: string, placement: Placement): Promise<{ added: boolean }> {
  return db.transaction().execute(async (tx) => {
    await lockPlaylist(tx, playlistId);
    if ((await positionOf(tx, playlistId, videoId)) !== undefined) return { added: false };
    const { n } = await tx.selectFrom('playlist_items').select((eb) => eb.fn.countAll<string>().as('n')).where('playlist_id', '=', playlistId).executeTakeFirstOrThrow();
    if (Number(n) >= MAX_PLAYLIST_ITEMS) {
      throw new AppError('limit_reached', `This playlist has ${MAX_PLAYLIST_ITEMS} videos, the most a playlist may hold`, { limit: MAX_PLAYLIST_ITEMS });
    }
    const position = await placementKey(tx, playlistId, placement);
    await tx.insertInto('playlist_items').values({ playlist_id: playlistId, video_id: videoId, position }).execute();
    await touch(tx, playlistId);
    return { added: true };
  });
}

/** Moves an item next to another one. */
export async function moveItem(db: Db, playlistId: string, videoId: string, placement: { before: string } | { after: string }): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await lockPlaylist(tx, playlistId);
    if ((await positionOf(tx, playlistId, videoId)) === undefined) throw new AppError('not_found', `Video ${videoId} is not in this playlist`);
    const position = await placementKey(tx, playlistId, placement, videoId);
    await tx.updateTable('playlist_items').set({ position }).where('playlist_id', '=', playlistId).where('video_id', '=', videoId).execute();
    await touch(tx, playlistId);
  });
}

/** Removes an item; removing one that is not there answers `removed: false`. */
export async function removeItem(db: Db, playlistId: string, videoId: string): Promise<{ removed: boolean }> {
  return db.transaction().execute(async (tx) => {
    await lockPlaylist(tx, playlistId);
    const gone = await tx.deleteFrom('playlist_items').where('playlist_id', '=', playlistId).where('video_id', '=', videoId).executeTakeFirst();
    if (gone.numDeletedRows > 0n) await touch(tx, playlistId);
    return { removed: gone.numDeletedRows > 0n };
  });
}

async function touch(tx: Tx, playlistId: string): Promise<void> {
  await tx.updateTable('playlists').set({ updated_at: sql`now()` }).where('id', '=', playlistId).execute();
}

/**
 * Whether the viewer may see the video `v`: the rules of `canView` (api/videos/service.ts) in
 * SQL. Deleted videos never; the owner or an admin always; a moderation-hidden one only a
 * moderator; otherwise ready and not private.
 */
function visibleTo(auth: AuthContext | undefined) {
  const viewer = auth?.userId ?? null;
  const admin = auth?.role === 'admin';
  const moderator = auth?.role === 'moderator';
  // True or false, never null (an anonymous viewer owns nothing), so its negation counts every other item.
  return sql<SqlBool>`(v.deleted_at is null and (
    coalesce(v.owner_id = ${viewer}::uuid, false) or ${admin}::boolean
    or (v.moderation_hidden_at is not null and ${moderator}::boolean)
    or (v.moderation_hidden_at is null and v.status = 'ready' and v.visibility <> 'private')))`;
}

/** A page of the items the viewer may see, in play order after the `after` key. */
export async function listItems(db: Db, playlistId: string, auth: AuthContext | undefined, limit: number, after: string | undefined) {
  const { rows } = await sql<{ video_id: string; position: string; added_at: Date; title: string; owner_id: string; duration_seconds: number | null }>`
    select i.video_id, i.position, i.added_at, v.title, v.owner_id, v.duration_seconds
    from playlist_items i join videos v on v.id = i.video_id
    where i.playlist_id = ${playlistId} and ${visibleTo(auth)} ${after === undefined ? sql`` : sql`and i.${pos} > ${after}`}
    order by i.${pos} limit ${limit + 1}`.execute(db);
  return rows;
}

/** Items of the playlist the viewer may not see (private to others, unready, hidden, deleted). */
export async function unavailableCount(db: Db, playlistId: string, auth: AuthContext | undefined): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from playlist_items i join videos v on v.id = i.video_id
    where i.playlist_id = ${playlistId} and not ${visibleTo(auth)}`.execute(db);
  return rows[0]!.n;
}
