import { sql, type RawBuilder } from 'kysely';
import { WATCH_CREDIT_MAX_SECONDS } from '../../lib/analytics.ts';
import type { Db } from '../../lib/db.ts';
import type { Video } from '../../lib/schema.ts';
import type { AuthContext } from '../context.ts';
import type { TimeKeyCursor } from '../responses.ts';

export interface Heartbeat {
  videoId: string;
  viewer: string;
  /** Signed-in viewers' progress goes to their history; anonymous ones keep none. */
  userId: string | undefined;
  positionSeconds: number;
  windowSeconds: number;
}

/**
 * Seconds a heartbeat adds to watch time (README, "Creator analytics"): the time since the
 * viewer's previous heartbeat, but no more than playback moved (a paused player adds nothing)
 * and no more than WATCH_CREDIT_MAX_SECONDS (a player that went silent adds only that).
 */
const watchCredit = (at: RawBuilder<unknown>, position: RawBuilder<unknown>, previousAt: RawBuilder<unknown>, previousPosition: RawBuilder<unknown>) =>
  sql`least(greatest(extract(epoch from ${at} - ${previousAt})::float8, 0), abs(${position} - ${previousPosition}), ${WATCH_CREDIT_MAX_SECONDS}::float8)`;

/**
 * One statement: counts a view when this viewer's last counted view of the video is at least
 * `windowSeconds` old (or there is none), and records the position for a signed-in viewer.
 * The conditional upsert on video_viewers takes that row's lock, so racing heartbeats of one
 * viewer queue on it and only the first finds the window passed; a counted view is a new
 * video_views row, never an update of the video's row, so views of one video never queue.
 * The position is clamped to the video's duration. Windows follow the database clock. The same
 * statement adds the seconds watched since the viewer's previous heartbeat to their row of the
 * current UTC hour in watch_time (the previous hour's row when this hour has none yet).
 */
export async function recordHeartbeat(db: Db, h: Heartbeat): Promise<{ counted: boolean }> {
  const { rows } = await sql<{ counted: number }>`
    with counted as (
      insert into video_viewers as vv (video_id, viewer, last_counted_at) values (${h.videoId}, ${h.viewer}, now())
      on conflict (video_id, viewer) do update set last_counted_at = excluded.last_counted_at
        where vv.last_counted_at <= excluded.last_counted_at - make_interval(secs => ${h.windowSeconds})
      returning video_id, viewer, last_counted_at
    ), logged as (
      insert into video_views (video_id, viewer, viewed_at) select video_id, viewer, last_counted_at from counted returning 1
    ), progress as (
      insert into watch_history (user_id, video_id, position_seconds, watched_at)
      select ${h.userId ?? null}::uuid, v.id, least(${h.positionSeconds}::float8, coalesce(v.duration_seconds, ${h.positionSeconds}::float8)), now()
      from videos v where v.id = ${h.videoId} and ${h.userId ?? null}::uuid is not null
      on conflict (user_id, video_id) do update set position_seconds = excluded.position_seconds, watched_at = excluded.watched_at
    ), beat as (
      select date_trunc('hour', now(), 'UTC') as hour, least(${h.positionSeconds}::float8, coalesce(v.duration_seconds, ${h.positionSeconds}::float8)) as position
      from videos v where v.id = ${h.videoId}
    ), previous as (
      select w.last_beat_at, w.last_position from watch_time w, beat
      where w.video_id = ${h.videoId} and w.viewer = ${h.viewer} and w.hour_start = beat.hour - interval '1 hour'
    ), watched as (
      insert into watch_time as w (video_id, viewer, hour_start, seconds, last_beat_at, last_position)
      select ${h.videoId}::uuid, ${h.viewer}::text, beat.hour,
        coalesce((select ${watchCredit(sql`now()`, sql`beat.position`, sql`previous.last_beat_at`, sql`previous.last_position`)} from previous), 0), now(), beat.position
      from beat
      on conflict (video_id, viewer, hour_start) do update set
        seconds = w.seconds + ${watchCredit(sql`excluded.last_beat_at`, sql`excluded.last_position`, sql`w.last_beat_at`, sql`w.last_position`)},
        last_beat_at = excluded.last_beat_at, last_position = excluded.last_position
    )
    select count(*)::int as counted from logged`.execute(db);
  return { counted: rows[0]!.counted > 0 };
}

/**
 * The exact view count (rolled up plus not yet rolled up, read in one statement so a rollup
 * committing meanwhile is seen whole or not at all) and the viewer's last position.
 */
export async function viewState(db: Db, videoId: string, userId: string | undefined): Promise<{ viewCount: number; positionSeconds: number | null }> {
  const { rows } = await sql<{ view_count: number; position_seconds: number | null }>`
    select v.view_count + (select count(*) from video_views p where p.video_id = v.id and not p.rolled_up) as view_count,
      (select h.position_seconds from watch_history h where h.user_id = ${userId ?? null}::uuid and h.video_id = v.id) as position_seconds
    from videos v where v.id = ${videoId}`.execute(db);
  return { viewCount: Number(rows[0]?.view_count ?? 0), positionSeconds: rows[0]?.position_seconds ?? null };
}

export type HistoryRow = Video & { position_seconds: number; watched_at: Date; watched_key: string };

/**
 * The user's history, newest watched first, keeping only videos they may still see by the
 * rules of `canView` (api/videos/service.ts): deleted videos, and others' videos since made
 * private, unready or hidden by moderation, drop out (and come back if that is undone).
 */
export async function listHistory(db: Db, auth: AuthContext, limit: number, after?: TimeKeyCursor): Promise<HistoryRow[]> {
  const admin = auth.role === 'admin';
  const moderator = auth.role === 'moderator';
  let query = db
    .selectFrom('watch_history as h')
    .innerJoin('videos as v', 'v.id', 'h.video_id')
    .selectAll('v')
    .select(['h.position_seconds', 'h.watched_at', sql<string>`h.watched_at::text`.as('watched_key')])
    .where('h.user_id', '=', auth.userId)
    .where('v.deleted_at', 'is', null)
    .where(
      sql<boolean>`(v.owner_id = ${auth.userId} or ${admin}::boolean or case when v.moderation_hidden_at is not null then ${moderator}::boolean
        else v.status = 'ready' and v.visibility <> 'private' end)`,
    );
  if (after) query = query.where(sql<boolean>`(h.watched_at, h.video_id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  return query.orderBy('h.watched_at', 'desc').orderBy('h.video_id', 'desc').limit(limit + 1).execute();
}

/** Forgets one video (or, without one, every video) from the user's history and resume positions. */
export async function removeHistory(db: Db, userId: string, videoId?: string): Promise<number> {
  let query = db.deleteFrom('watch_history').where('user_id', '=', userId);
  if (videoId) query = query.where('video_id', '=', videoId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
