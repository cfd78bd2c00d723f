import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import { copyObject, deleteObjects, deleteObjectsUnder, headObject, type Storage } from '../lib/s3.ts';
import type { VideoRenditionRecord } from '../lib/schema.ts';
import { pinnedSourcePath, publishVideoProgress, uploadSourcePath, videoPaths } from '../lib/videos.ts';
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

  /**
   * Every object of a video: what the encoder wrote and, when asked, the source with its
   * upload and pinned copies (whichever exist).
   */
  async function deleteVideoObjects(videoId: string, sourceKey: string | null): Promise<number> {
    let deleted = await deleteObjectsUnder(storage, videoPaths(videoId).root);
    if (sourceKey) {
      await deleteObjects(storage, [...new Set([sourceKey, uploadSourcePath(videoId), pinnedSourcePath(videoId)])]);
      deleted += 1;
    }
    return deleted;
  }

  /** Deleted (or gone) videos lose every object; true when that is the case. */
  async function discardIfDeleted(videoId: string): Promise<boolean> {
    const video = await db.selectFrom('videos').select(['source_key', 'deleted_at']).where('id', '=', videoId).executeTakeFirst();
    if (video && !video.deleted_at) return false;
    await deleteVideoObjects(videoId, video?.source_key ?? uploadSourcePath(videoId));
    return true;
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
    /**
     * An upload's object copied to a key no upload URL can write, and checked there: what the
     * transcode probes and encodes can no longer change, and a file PUT again after
     * `complete` is never read. Idempotent; null when the video was deleted meanwhile (its
     * objects are then gone too).
     */
    async pinUploadedSource(input: { videoId: string; uploadKey: string; maxBytes: number }): Promise<{ sourceKey: string | null }> {
      const pinned = pinnedSourcePath(input.videoId);
      const video = await db.selectFrom('videos').select(['source_key', 'deleted_at']).where('id', '=', input.videoId).executeTakeFirst();
      if (!video || video.deleted_at) {
        await discardIfDeleted(input.videoId);
        return { sourceKey: null };
      }
      if (video.source_key === pinned) return { sourceKey: pinned };
      if (!(await copyObject(storage, input.uploadKey, pinned))) {
        throw ApplicationFailure.nonRetryable('The uploaded file is missing from storage; upload it again', 'SourceMissing');
      }
      const head = await headObject(storage, pinned);
      const sizeBytes = head?.sizeBytes ?? 0;
      const refusal =
        sizeBytes > input.maxBytes ? `The file is ${sizeBytes} bytes; videos may be at most ${input.maxBytes} bytes` : sizeBytes === 0 ? 'The file is empty' : null;
      if (refusal) {
        await deleteObjects(storage, [pinned, input.uploadKey]);
        throw ApplicationFailure.nonRetryable(refusal, 'MediaRefused');
      }
      // Row-locked against a deletion: either it sees the pinned key and deletes it, or the check below does.
      const updated = await db
        .updateTable('videos')
        .set({ source_key: pinned, source_size_bytes: sizeBytes, updated_at: new Date() })
        .where('id', '=', input.videoId)
        .where('deleted_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!updated) {
        await discardIfDeleted(input.videoId);
        return { sourceKey: null };
      }
      await deleteObjects(storage, [input.uploadKey]);
      return { sourceKey: pinned };
    },

    /**
     * The video becomes `ready` with everything a player needs. A video deleted meanwhile
     * stays deleted and loses what the encoder wrote: its removal may have run before the
     * encoder's last upload.
     */
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
      if (row) {
        publishVideoProgress(nats, { videoId: input.videoId, percent: PROGRESS.ready, status: 'ready' });
        return { published: true };
      }
      await discardIfDeleted(input.videoId);
      return { published: false };
    },

    /**
     * Points the video at a poster taken at `atSeconds`, only while that is still the time its
     * owner chose (a later PATCH may have chosen another). A video deleted meanwhile loses
     * every object, this poster included: its removal may have run before the poster was written.
     */
    async publishPoster(input: { videoId: string; atSeconds: number; posterKey: string }): Promise<{ published: boolean }> {
      const row = await db
        .updateTable('videos')
        .set({ poster_key: input.posterKey, updated_at: new Date() })
        .where('id', '=', input.videoId)
        .where('poster_at_seconds', '=', input.atSeconds)
        .where('deleted_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!row) await discardIfDeleted(input.videoId);
      return { published: row !== undefined };
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
      if (await discardIfDeleted(input.videoId)) return { deleted: true };
      await deleteVideoObjects(input.videoId, null);
      await markFailed(input.videoId, 'Transcoding was cancelled; retry it to publish the video');
      return { deleted: false };
    },

    /**
     * Videos created but never completed, older than any upload URL can live (7 days max):
     * nothing can be uploaded to them any more. Their rows and any bytes that did arrive go.
     * So do bytes PUT again after `complete` to videos whose source was pinned since (never
     * read, but stored): URLs live at most 7 days past `olderThanHours`.
     */
    async purgeAbandonedUploads(input: { olderThanHours: number }): Promise<{ abandonedUploads: number }> {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const pinned = await db
          .selectFrom('videos')
          .select('id')
          .where('id', '>', after)
          .where('source_key', 'like', pinnedSourcePath('%'))
          .where('created_at', '>', sql<Date>`now() - make_interval(hours => ${input.olderThanHours + 8 * 24})`)
          .orderBy('id')
          .limit(1000)
          .execute();
        if (!pinned.length) break;
        await deleteObjects(storage, pinned.map((v) => uploadSourcePath(v.id)));
        after = pinned.at(-1)!.id;
        heartbeat(after);
      }
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
