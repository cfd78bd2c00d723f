import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Db } from '../lib/db.ts';
import { liveThumbnailCommand } from '../lib/ffmpeg-commands.ts';
import { runFfmpeg } from '../lib/ffmpeg.ts';
import { newestLiveSegment } from '../lib/hls.ts';
import { uploadFile, type Storage } from '../lib/s3.ts';
import { LIVE_STATUSES, liveThumbnailPath } from '../lib/streams.ts';

export interface LiveThumbnailDeps {
  db: Db;
  storage: Storage;
  /** nginx-rtmp's hls_path (RTMP_HLS_DIR), shared with the media workers. */
  liveHlsDir: string;
}

export interface LiveThumbnailsResult {
  /** Streams on air that this run looked at (the stalest thumbnails first). */
  live: number;
  captured: number;
  /** No playlist or segment yet (an encoder that just connected), or one nginx removed meanwhile. */
  skipped: number;
  failed: number;
  /** Why, for the first failed streams (`<stream id>: <error>`): the run's result in the Temporal UI says it. */
  errors: string[];
}

/** Failures a run's result names; the count covers the rest. */
const ERRORS_KEPT = 10;

/** FFmpeg on one segment takes well under a second; one that hangs is given up on. */
const CAPTURE_TIMEOUT_MS = 20_000;

export function createLiveThumbnailActivities(deps: LiveThumbnailDeps) {
  const { db, storage, liveHlsDir } = deps;

  /** True when a thumbnail was stored; false when the stream has nothing to take one from yet. */
  async function capture(streamId: string, scratch: string): Promise<boolean> {
    const playlist = await readFile(path.join(liveHlsDir, `${streamId}.m3u8`), 'utf8').catch(missingAsNull);
    const segment = playlist === null ? null : newestLiveSegment(playlist);
    if (!segment) return false;
    const image = path.join(scratch, `${streamId}.jpg`);
    try {
      await runFfmpeg(liveThumbnailCommand({ file: path.join(liveHlsDir, segment), format: 'mpegts' }, image), { signal: AbortSignal.timeout(CAPTURE_TIMEOUT_MS) });
    } catch (err) {
      // nginx removes old segments as the playlist slides: one gone since the read is no error.
      if (/No such file or directory/.test(String(err))) return false;
      throw err;
    }
    const key = liveThumbnailPath(streamId);
    await uploadFile(storage, key, image);
    // Only while still on air: a stream that ended meanwhile keeps the image it ended with.
    const updated = await db
      .updateTable('streams')
      .set({ thumbnail_key: key, thumbnail_at: new Date() })
      .where('id', '=', streamId)
      .where('status', 'in', LIVE_STATUSES)
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  return {
    /**
     * Takes a thumbnail of each stream on air (at most `maxStreams`, the stalest first) from
     * the newest segment of its live HLS. Safe to repeat: each stream has one key, overwritten.
     * One stream's failure is logged and counted, never the run's.
     */
    async captureLiveThumbnails(input: { maxStreams: number }): Promise<LiveThumbnailsResult> {
      const context = Context.current();
      const streams = await db
        .selectFrom('streams')
        .select('id')
        .where('status', 'in', LIVE_STATUSES)
        .orderBy((eb) => eb.ref('thumbnail_at'), (ob) => ob.asc().nullsFirst())
        .limit(input.maxStreams)
        .execute();
      const result: LiveThumbnailsResult = { live: streams.length, captured: 0, skipped: 0, failed: 0, errors: [] };
      const scratch = await mkdtemp(path.join(os.tmpdir(), 'streamhub-live-thumbnails-'));
      try {
        for (const { id } of streams) {
          context.heartbeat(result);
          try {
            if (await capture(id, scratch)) result.captured += 1;
            else result.skipped += 1;
          } catch (err) {
            result.failed += 1;
            if (result.errors.length < ERRORS_KEPT) result.errors.push(`${id}: ${String(err).slice(0, 500)}`);
            context.log.warn('live thumbnail not taken', { streamId: id, error: String(err) });
          }
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      return result;
    },
  };
}

const missingAsNull = (err: NodeJS.ErrnoException) => {
  if (err.code === 'ENOENT') return null;
  throw err;
};

export type LiveThumbnailActivities = ReturnType<typeof createLiveThumbnailActivities>;
