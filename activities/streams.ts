import { Context } from '@temporalio/activity';
import type { Db } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import type { StreamStatus } from '../lib/schema.ts';
import { dropClient } from '../lib/rtmp.ts';
import { FINISHED_STATUSES, publishStreamStatus } from '../lib/streams.ts';

interface StreamActivityDeps {
  db: Db;
  nats: Nats;
  /** nginx-rtmp's control endpoint (`rtmp_control`), used to cut a publisher off. */
  rtmpControlUrl: string;
}

/** Bookkeeping of the stream lifecycle (task queue `streamhub`). */
export function createStreamActivities(deps: StreamActivityDeps) {
  const { db, nats } = deps;
  return {
    /** The stream's status in Postgres and on NATS `stream.<id>.status`. Idempotent. */
    async setStreamStatus(input: { streamId: string; status: StreamStatus }): Promise<void> {
      const final = FINISHED_STATUSES.includes(input.status);
      await db
        .updateTable('streams')
        .set((eb) => ({
          status: input.status,
          updated_at: new Date(),
          ...(final ? { ended_at: eb.fn.coalesce('ended_at', eb.val(new Date())), current_viewers: 0 } : {}),
        }))
        .where('id', '=', input.streamId)
        .execute();
      // Closed sessions are history; an end cuts any session still open.
      if (final) {
        await db
          .updateTable('stream_sessions')
          .set({ ended_at: new Date(), end_reason: 'stream ended' })
          .where('stream_id', '=', input.streamId)
          .where('ended_at', 'is', null)
          .execute();
      }
      publishStreamStatus(nats, { streamId: input.streamId, status: input.status });
    },

    async markBroadcastStarted(input: { streamId: string }): Promise<void> {
      await db
        .updateTable('streams')
        .set((eb) => ({ started_at: eb.fn.coalesce('started_at', eb.val(new Date())) }))
        .where('id', '=', input.streamId)
        .execute();
    },

    async updateStreamInfo(input: { streamId: string; title?: string; description?: string; categoryId?: string | null }) {
      const row = await db
        .updateTable('streams')
        .set({
          ...(input.title !== undefined ? { title: input.title.trim() } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.categoryId !== undefined ? { category_id: input.categoryId } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', input.streamId)
        .returning(['title', 'description', 'category_id'])
        .executeTakeFirstOrThrow();
      return { title: row.title, description: row.description, categoryId: row.category_id };
    },

    /** Cuts the current encoder off through nginx-rtmp's control interface. No encoder is fine. */
    async dropPublisher(input: { streamId: string }): Promise<{ dropped: number }> {
      // The latest session: ending the stream has already closed its row.
      const session = await db
        .selectFrom('stream_sessions')
        .select('client_id')
        .where('stream_id', '=', input.streamId)
        .orderBy('started_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!session) return { dropped: 0 };
      const dropped = await dropClient(deps.rtmpControlUrl, session.client_id);
      // nginx no longer had the encoder the workflow thinks is on air: it left just now, or
      // without a publish-done (an nginx worker that crashed takes its encoders silently).
      if (!dropped) Context.current().log.warn('nginx-rtmp had no encoder to cut off', { streamId: input.streamId, clientId: session.client_id });
      return { dropped };
    },

    /**
     * The VOD row of a broadcast, once per stream (its idempotency key), already
     * `processing`: its transcode starts next as a child workflow.
     */
    /** `hidden`: moderation ended the broadcast, so its VOD is hidden and announced to nobody. */
    async createRecordingVideo(input: { streamId: string; sourceKey: string; title: string }): Promise<{ videoId: string; visibility: 'public' | 'unlisted'; hidden: boolean }> {
      return db.transaction().execute(async (tx) => {
        const stream = await tx
          .selectFrom('streams')
          .select(['owner_id', 'vod_video_id', 'visibility', 'moderation_ended_at', 'age_restricted_at'])
          .where('id', '=', input.streamId)
          .executeTakeFirstOrThrow();
        const hidden = stream.moderation_ended_at !== null;
        if (stream.vod_video_id) return { videoId: stream.vod_video_id, visibility: stream.visibility, hidden };
        const video = await tx
          .insertInto('videos')
          .values({
            owner_id: stream.owner_id,
            title: input.title,
            // An unlisted broadcast makes an unlisted VOD.
            visibility: stream.visibility,
            source: 'recording',
            source_key: input.sourceKey,
            status: 'processing',
            transcode_attempts: 1,
            idempotency_key: `stream:${input.streamId}`,
            moderation_hidden_at: stream.moderation_ended_at,
            // The recording of an age-restricted broadcast is age-restricted too.
            age_restricted_at: stream.age_restricted_at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx.updateTable('streams').set({ vod_video_id: video.id }).where('id', '=', input.streamId).execute();
        return { videoId: video.id, visibility: stream.visibility, hidden };
      });
    },
  };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
