import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Video, VideoSource, VideoVisibility } from '../../lib/schema.ts';
import { searchAttributes, startIdempotently, type Temporal } from '../../lib/temporal.ts';
import { hasChannelPerks } from '../../lib/subscriptions/perks.ts';
import { uploadSourcePath } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { transcodeWorkflow } from '../../workflows/transcode.ts';
import type { videoRemovalWorkflow } from '../../workflows/video-removal.ts';
import type { AuthContext } from '../context.ts';
import { likedByUser } from '../likes/service.ts';
import type { VideoCategory, VideoLinks, VideoView } from './view.ts';
import { ownerOrAdmin } from '../middleware/auth.ts';
import { promoteToCreator } from '../users/service.ts';

export interface NewUpload {
  ownerId: string;
  title: string;
  description: string;
  visibility: VideoVisibility;
  idempotencyKey: string | undefined;
}

/**
 * Creates the `uploading` row. The same idempotency key from the same owner returns the
 * first video instead of a second one. A viewer's first video makes them a creator.
 */
export async function createUpload(db: Db, upload: NewUpload): Promise<{ video: Video; created: boolean }> {
  return db.transaction().execute(async (tx) => {
    const id = randomUUID();
    const inserted = await tx
      .insertInto('videos')
      .values({
        id,
        owner_id: upload.ownerId,
        title: upload.title,
        description: upload.description,
        visibility: upload.visibility,
        source: 'upload',
        source_key: uploadSourcePath(id),
        idempotency_key: upload.idempotencyKey ?? null,
      })
      .onConflict((oc) => oc.columns(['owner_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      await promoteToCreator(tx, upload.ownerId);
      return { video: inserted, created: true };
    }
    const existing = await tx
      .selectFrom('videos')
      .selectAll()
      .where('owner_id', '=', upload.ownerId)
      // Only a key can conflict: without one the insert above always returns the row.
      .where('idempotency_key', '=', upload.idempotencyKey!)
      .executeTakeFirstOrThrow();
    return { video: existing, created: false };
  });
}

/**
 * Anyone may see a ready public or unlisted video that moderation has not hidden; everything
 * else only its owner, an admin, or a moderator reviewing it.
 */
export function canView(auth: AuthContext | undefined, video: Video): boolean {
  if (ownerOrAdmin(auth, video.owner_id)) return true;
  if (video.moderation_hidden_at) return auth?.role === 'moderator';
  return video.status === 'ready' && video.visibility !== 'private';
}

/**
 * Whether the caller may watch a video they can see: a subscriber-only one only its owner, an
 * admin, or a subscriber of its channel with perks (one query, only for such a video).
 */
export async function hasSubscriberAccess(db: Db, auth: AuthContext | undefined, video: Pick<Video, 'owner_id' | 'visibility'>): Promise<boolean> {
  if (video.visibility !== 'subscribers' || ownerOrAdmin(auth, video.owner_id)) return true;
  return auth !== undefined && (await hasChannelPerks(db, auth.userId, video.owner_id));
}

/** Refuses (403 `subscribers_only`) a subscriber-only video to a caller without access. */
export async function assertSubscriberAccess(db: Db, auth: AuthContext | undefined, video: Pick<Video, 'owner_id' | 'visibility'>): Promise<void> {
  if (!(await hasSubscriberAccess(db, auth, video))) throw new AppError('subscribers_only', "Only the channel's subscribers can watch this video", { channelId: video.owner_id });
}

/** A video this caller may see and watch: 404 as findVisibleVideo, 403 `subscribers_only` for a subscriber-only one they may not watch. */
export async function findWatchableVideo(db: Db, id: string, auth: AuthContext | undefined): Promise<Video> {
  const video = await findVisibleVideo(db, id, auth);
  await assertSubscriberAccess(db, auth, video);
  return video;
}

/** A video that is not deleted, whoever asks. */
export function findVideo(db: Db, id: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A video this caller may see, or 404 (private videos do not reveal that they exist). */
export async function findVisibleVideo(db: Db, id: string, auth: AuthContext | undefined): Promise<Video> {
  const video = await findVideo(db, id);
  if (!video || !canView(auth, video)) throw new AppError('not_found', 'No such video');
  return video;
}

/** A video this caller owns (or administers): 404 if invisible, 403 if only visible. */
export async function findManagedVideo(db: Db, id: string, auth: AuthContext | undefined): Promise<Video> {
  const video = await findVisibleVideo(db, id, auth);
  if (!ownerOrAdmin(auth, video.owner_id)) throw new AppError('forbidden', 'Only the owner or an admin can do this');
  return video;
}

/** `from` → `processing` for a new transcode attempt; undefined when the row was not in `from`. */
export async function beginProcessing(db: Db, id: string, from: 'uploading' | 'failed', sizeBytes?: number): Promise<Video | undefined> {
  return db
    .updateTable('videos')
    .set({
      status: 'processing',
      progress: 0,
      failure_reason: null,
      transcode_attempts: sql<number>`transcode_attempts + 1`,
      ...(sizeBytes === undefined ? {} : { source_size_bytes: sizeBytes }),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .where('status', '=', from)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Starts `video/<id>/transcode`, or finds it already running: calling this twice (a retried
 * `complete`, two API processes) runs one transcode. A retry replaces a run still running:
 * a failed run marks its video failed a moment before it ends, and a retry in that moment
 * must start a new run, not find the dying one. A source still at its upload key is pinned
 * by the transcode first and held to `maxUploadBytes` there.
 */
export async function startTranscode(
  temporal: Temporal,
  video: Pick<Video, 'id' | 'owner_id' | 'source_key'>,
  mode: 'first' | 'retry',
  maxUploadBytes: number,
): Promise<void> {
  const upload = video.source_key === uploadSourcePath(video.id) ? { maxBytes: maxUploadBytes } : undefined;
  await startIdempotently(
    temporal.client.workflow.start<typeof transcodeWorkflow>('transcodeWorkflow', {
      workflowId: workflowIds.transcode(video.id),
      workflowIdConflictPolicy: mode === 'retry' ? 'TERMINATE_EXISTING' : 'FAIL',
      taskQueue: temporal.taskQueue,
      args: [{ videoId: video.id, sourceKey: video.source_key, mediaTaskQueue: temporal.mediaTaskQueue, upload }],
      typedSearchAttributes: [
        { key: searchAttributes.VideoId, value: video.id },
        { key: searchAttributes.CreatorId, value: video.owner_id },
        { key: searchAttributes.Phase, value: 'queued' },
      ],
    }),
  );
}

/** Starts `video/<id>/remove` (idempotent), which stops a running transcode and deletes everything. */
export async function startRemoval(temporal: Temporal, video: Pick<Video, 'id' | 'owner_id'>): Promise<void> {
  await startIdempotently(
    temporal.client.workflow.start<typeof videoRemovalWorkflow>('videoRemovalWorkflow', {
      workflowId: workflowIds.videoRemoval(video.id),
      taskQueue: temporal.taskQueue,
      args: [{ videoId: video.id }],
      typedSearchAttributes: [
        { key: searchAttributes.VideoId, value: video.id },
        { key: searchAttributes.CreatorId, value: video.owner_id },
      ],
    }),
  );
}

export async function markDeleted(db: Db, id: string): Promise<void> {
  await db.updateTable('videos').set({ deleted_at: new Date() }).where('id', '=', id).where('deleted_at', 'is', null).execute();
}

export interface VideoListCursor {
  at: string;
  id: string;
}

export interface VideoViewsCursor {
  views: number;
  id: string;
}

export interface VideoListFilter {
  ownerId?: string;
  /** Every video of `ownerId` whatever its status or visibility (their own list). */
  all: boolean;
  /** Its subscriber-only videos too (the channel's own list, with `ownerId`); never in public lists. */
  withSubscriberOnly?: boolean;
  source?: VideoSource;
}

function filteredVideos(db: Db, filter: VideoListFilter) {
  let query = db
    .selectFrom('videos')
    .selectAll()
    .select(sql<string>`created_at::text`.as('created_key'))
    .where('deleted_at', 'is', null);
  if (filter.ownerId) query = query.where('owner_id', '=', filter.ownerId);
  if (filter.source) query = query.where('source', '=', filter.source);
  if (!filter.all) {
    const listed = filter.ownerId && filter.withSubscriberOnly ? (['public', 'subscribers'] as const) : (['public'] as const);
    query = query.where('status', '=', 'ready').where('visibility', 'in', listed).where('moderation_hidden_at', 'is', null);
  }
  return query;
}

/**
 * Newest first: the public ready videos everyone may see (of one owner, or of everyone), or
 * with `all`, every video of that owner (their own list: uploads in progress, failed, private).
 */
export async function listVideos(db: Db, filter: VideoListFilter, limit: number, after?: VideoListCursor) {
  let query = filteredVideos(db, filter);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
}

/** Most viewed first (ties: the larger id first), by the same reading rules as listVideos. */
export async function listMostViewedVideos(db: Db, filter: VideoListFilter, limit: number, after?: VideoViewsCursor) {
  let query = filteredVideos(db, filter);
  if (after) query = query.where(sql<boolean>`(view_count, id) < (${after.views}, ${after.id}::uuid)`);
  return query.orderBy('view_count', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
}

/** The categories of these videos by id, in one query (inactive ones too: a video keeps its category). */
export async function videoCategories(db: Db, videos: Pick<Video, 'category_id'>[]): Promise<Map<string, VideoCategory>> {
  const ids = [...new Set(videos.flatMap((v) => (v.category_id ? [v.category_id] : [])))];
  if (!ids.length) return new Map();
  const rows = await db.selectFrom('categories').select(['id', 'name', 'slug']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * A list of videos as the API shows them: the viewer's likes and the videos' categories read
 * once for the whole list. `subscriberAccess` as in VideoLinks.view.
 */
export async function presentVideos(db: Db, links: VideoLinks, rows: Video[], auth: AuthContext | undefined, subscriberAccess = false): Promise<VideoView[]> {
  const [liked, categories] = await Promise.all([likedByUser(db, 'video', rows.map((r) => r.id), auth?.userId), videoCategories(db, rows)]);
  return Promise.all(rows.map((r) => links.view(r, auth !== undefined, auth ? liked.has(r.id) : null, categories, subscriberAccess)));
}
