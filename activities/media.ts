import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../lib/db.ts';
import { hlsEncodeCommand, posterCommand, progressPercent, storyboardCommand } from '../lib/ffmpeg-commands.ts';
import { probeMedia, readMediaToolchain, runFfmpeg, type MediaToolchain } from '../lib/ffmpeg.ts';
import { parseMasterPlaylist } from '../lib/hls.ts';
import type { Nats } from '../lib/nats.ts';
import { headObject, presignGet, uploadDirectory, type Storage } from '../lib/s3.ts';
import type { VideoRenditionRecord } from '../lib/schema.ts';
import { planPoster, planStoryboard, storyboardVtt } from '../lib/thumbnails.ts';
import { UnplayableMediaError, type LadderPlan } from '../workflows/plans/ladder.ts';
import type { MediaInfo } from '../workflows/plans/media-info.ts';
import { videoPaths } from '../lib/videos.ts';
import { createProgressReporter, PROGRESS } from './video-progress.ts';

export interface MediaActivityDeps {
  db: Db;
  nats: Nats;
  storage: Storage;
  /** Scratch space for encodes; each attempt gets its own directory, removed afterwards. */
  workDir?: string;
}

export interface EncodeInput {
  videoId: string;
  sourceKey: string;
  plan: LadderPlan;
  durationSeconds: number;
}

export interface ThumbnailsInput {
  videoId: string;
  sourceKey: string;
  durationSeconds: number;
  display: { width: number; height: number };
}

export interface ThumbnailKeys {
  posterKey: string;
  storyboardKey: string;
}

// ffprobe/ffmpeg messages that mean "could not reach the source", not "the source is bad".
const NETWORK_TROUBLE = /Connection refused|Connection timed out|timed out|Network is unreachable|Server returned 5\d\d|Input\/output error|End of file/i;

/** Activities for the `media` task queue: everything that runs FFmpeg. */
export function createMediaActivities(deps: MediaActivityDeps) {
  const { storage } = deps;
  const workDir = deps.workDir ?? path.join(os.tmpdir(), 'streamhub-media');
  // The binaries do not change under a running worker; asking once keeps probes cheap.
  let toolchain: Promise<MediaToolchain> | undefined;

  /** A URL FFmpeg reads the source from, valid long enough for a slow encode of it. */
  const sourceUrl = (sourceKey: string, durationSeconds = 0) =>
    presignGet(storage, sourceKey, Math.max(3600, Math.ceil(durationSeconds * 10)), 'internal');

  async function withScratchDir<T>(videoId: string, fn: (dir: string) => Promise<T>): Promise<T> {
    await mkdir(workDir, { recursive: true });
    const dir = await mkdtemp(path.join(workDir, `${videoId}-`));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    async reportMediaToolchain(): Promise<MediaToolchain> {
      toolchain ??= readMediaToolchain().catch((err) => {
        toolchain = undefined;
        throw err;
      });
      return toolchain;
    },

    /** ffprobe of the uploaded source. Bad media fails for good; an unreachable S3 is retried. */
    async probeVideoSource(input: { videoId: string; sourceKey: string }): Promise<MediaInfo> {
      const head = await headObject(storage, input.sourceKey);
      if (!head) throw ApplicationFailure.nonRetryable('The uploaded file is missing from storage; upload it again', 'SourceMissing');
      if (head.sizeBytes === 0) throw ApplicationFailure.nonRetryable('The file is empty', 'UnplayableMedia');
      try {
        return await probeMedia(await sourceUrl(input.sourceKey));
      } catch (err) {
        if (err instanceof UnplayableMediaError && !NETWORK_TROUBLE.test(err.message)) {
          throw ApplicationFailure.nonRetryable(err.message, 'UnplayableMedia');
        }
        throw err;
      }
    },

    /**
     * Encodes the whole ladder in one FFmpeg process and uploads it to `videos/<id>/hls/`.
     * Heartbeats the percentage (visible in the Temporal UI), which also reaches the
     * database and NATS. A retry starts over and writes the same keys.
     */
    async encodeHlsRenditions(input: EncodeInput): Promise<VideoRenditionRecord[]> {
      const context = Context.current();
      const progress = createProgressReporter(deps, input.videoId, context.log);
      return withScratchDir(input.videoId, async (dir) => {
        const command = hlsEncodeCommand(await sourceUrl(input.sourceKey, input.durationSeconds), dir, input.plan);
        await runFfmpeg(command.args, {
          signal: context.cancellationSignal,
          onProgressLine: (line) => {
            const percent = progressPercent(line, input.durationSeconds);
            if (percent === undefined) return;
            context.heartbeat({ step: 'encoding', percent });
            progress.report(Math.floor((percent * PROGRESS.encoded) / 100));
          },
        });
        const master = parseMasterPlaylist(await readFile(path.join(dir, command.masterPlaylist), 'utf8'));
        let uploaded = 0;
        const files = await uploadDirectory(storage, dir, videoPaths(input.videoId).hls, {
          signal: context.cancellationSignal,
          isLast: (file) => file.endsWith('.m3u8'),
          onUploaded: () => context.heartbeat({ step: 'uploading', files: ++uploaded }),
        });
        await progress.flush(PROGRESS.encoded);
        context.log.info('renditions uploaded', { videoId: input.videoId, files: files.length });
        return renditionRecords(input.plan, master);
      });
    },

    /** Poster image and storyboard sprite + WebVTT index, under `videos/<id>/thumbnails/`. */
    async createVideoThumbnails(input: ThumbnailsInput): Promise<ThumbnailKeys> {
      const context = Context.current();
      return withScratchDir(input.videoId, async (dir) => {
        const source = await sourceUrl(input.sourceKey, input.durationSeconds);
        const storyboard = planStoryboard(input.durationSeconds, input.display);
        context.heartbeat({ step: 'poster' });
        await runFfmpeg(posterCommand(source, path.join(dir, 'poster.jpg'), planPoster(input.durationSeconds, input.display)), {
          signal: context.cancellationSignal,
        });
        context.heartbeat({ step: 'storyboard' });
        await runFfmpeg(storyboardCommand(source, path.join(dir, 'storyboard.jpg'), storyboard), {
          signal: context.cancellationSignal,
          onProgressLine: () => context.heartbeat({ step: 'storyboard' }),
        });
        await writeFile(path.join(dir, 'storyboard.vtt'), storyboardVtt(storyboard, input.durationSeconds, 'storyboard.jpg'));
        const paths = videoPaths(input.videoId);
        await uploadDirectory(storage, dir, paths.thumbnails, { signal: context.cancellationSignal });
        await createProgressReporter(deps, input.videoId, context.log).flush(PROGRESS.thumbnails);
        return { posterKey: paths.poster, storyboardKey: paths.storyboardVtt };
      });
    },
  };
}

/** What clients are told about each rendition: the plan's sizes with the encoder's real bandwidth. */
function renditionRecords(plan: LadderPlan, master: ReturnType<typeof parseMasterPlaylist>): VideoRenditionRecord[] {
  return master.map((variant) => {
    const name = variant.uri.split('/')[0]!;
    const planned = plan.renditions.find((r) => r.name === name);
    return {
      name,
      width: planned?.width ?? null,
      height: planned?.height ?? null,
      fps: planned?.fps ?? null,
      bandwidthKbps: Math.round(variant.bandwidth / 1000),
      playlist: variant.uri,
    };
  });
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
