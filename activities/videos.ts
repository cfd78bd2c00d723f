import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import { deleteObject, deleteObjects, deleteObjectsUnder, type Storage } from '../lib/s3.ts';
import type { VideoRenditionRecord } from '../lib/schema.ts';
import { publishVideoProgress, videoPaths } from '../lib/videos.ts';
import { displaySize, type MediaInfo } from '../workflows/plans/media-info.ts';
import type { EncodeResult } from './media.ts';
import { PROGRESS } from './video-progress.ts';

export interface PublishVideoInput extends EncodeResult {
  videoId: string;
  info: MediaInfo;
}

/** Database and storage bookkeeping of the VOD pipeline (task queue `streamhub`). */
export function createVideoActivities(deps: { db: Db; nats: Nats; storage: Storage }) {
  const { db, nats, storage } = deps;

  /** Every object of a video: what the encoder wrote and, when asked, the source. */
  async function deleteVideoObjects(videoId: string, sourceKey: string | null): Promise<number> {
    let deleted = await deleteObjectsUnder(storage, videoPaths(videoId).root);
    if (sourceKey) {
      await deleteObject(storage, sourceKey);
      deleted += 1;
    }
    return deleted;
  }

  async function markFailed(videoId: string, reason: string): Promise<void> {
    const updated = await db
      .updateTable('videos')
      .set({ status: 'failed', failure_reason: reason, updated_at: new Date() })
      .where('id', '=', videoId)
      .where('status', '=', 'processing')
      .returning('progress')
      .executeTakeFirst();
    if (updated) publishVideoProgress(nats, { videoId, percent: updated.progress, status: 'failed' });
  }

  return {
    /** The video becomes `ready` with everything a player needs. A deleted video stays deleted. */
    async publishVideo(input: PublishVideoInput): Promise<{ published: boolean }> {
      const size = input.info.video ? displaySize(input.info.video) : null;
      const paths = videoPaths(input.videoId);
      const row = await db
        .updateTable('videos')
        .set({
          status: 'ready',
          progress: PROGRESS.ready,
          failure_reason: null,
          duration_seconds: input.info.durationSeconds,
          width: size?.width ?? null,
          height: size?.height ?? null,
          // pg would send a JS array as a Postgres array, not JSON.
          renditions: JSON.stringify(input.renditions) as unknown as VideoRenditionRecord[],
          master_playlist_key: paths.master,
          poster_key: input.thumbnails?.posterKey ?? null,
          storyboard_key: input.thumbnails?.storyboardKey ?? null,
          ready_at: new Date(),
          updated_at: new Date(),
        })
        .where('id', '=', input.videoId)
        .where('deleted_at', 'is', null)
        .where('status', 'in', ['processing', 'ready'])
        .returning('id')
        .executeTakeFirst();
      if (row) publishVideoProgress(nats, { videoId: input.videoId, percent: PROGRESS.ready, status: 'ready' });
      return { published: Boolean(row) };
    },

    async markVideoFailed(input: { videoId: string; reason: string }): Promise<void> {
      await markFailed(input.videoId, input.reason);
    },

    /**
     * After a transcode was cancelled: a deleted video loses every object; otherwise (an
     * operator cancelled it) the partial output goes, the source stays, and the video is
     * `failed` so its owner can retry.
     */
    async settleCancelledTranscode(input: { videoId: string }): Promise<{ deleted: boolean }> {
      const video = await db.selectFrom('videos').select(['source_key', 'deleted_at']).where('id', '=', input.videoId).executeTakeFirst();
      if (!video || video.deleted_at) {
        await deleteVideoObjects(input.videoId, video?.source_key ?? null);
        return { deleted: true };
      }
      await deleteVideoObjects(input.videoId, null);
      await markFailed(input.videoId, 'Transcoding was cancelled; retry it to publish the video');
      return { deleted: false };
    },

    /**
     * Videos created but never completed, older than any upload URL can live (7 days max):
     * nothing can be uploaded to them any more. Their rows and any bytes that did arrive go.
     */
    async purgeAbandonedUploads(input: { olderThanHours: number }): Promise<{ abandonedUploads: number }> {
      let purged = 0;
      for (;;) {
        const batch = await db
          .selectFrom('videos')
          .select(['id', 'source_key'])
          .where('status', '=', 'uploading')
          .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${input.olderThanHours})`)
          .limit(200)
          .execute();
        if (!batch.length) return { abandonedUploads: purged };
        await deleteObjects(storage, batch.map((v) => v.source_key));
        const deleted = await db
          .deleteFrom('videos')
          .where('id', 'in', batch.map((v) => v.id))
          .where('status', '=', 'uploading')
          .executeTakeFirst();
        purged += Number(deleted.numDeletedRows);
        heartbeat(purged);
      }
    },

    /** Deleting a video: marks the row deleted (idempotent) and removes all its objects. */
    async removeVideo(input: { videoId: string }): Promise<{ objectsDeleted: number }> {
      const video = await db
        .updateTable('videos')
        .set((eb) => ({ deleted_at: eb.fn.coalesce('deleted_at', eb.val(new Date())) }))
        .where('id', '=', input.videoId)
        .returning('source_key')
        .executeTakeFirst();
      if (!video) throw ApplicationFailure.nonRetryable(`No video ${input.videoId}`, 'VideoNotFound');
      return { objectsDeleted: await deleteVideoObjects(input.videoId, video.source_key) };
    },
  };
}

export type VideoActivities = ReturnType<typeof createVideoActivities>;
