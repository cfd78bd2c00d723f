import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../lib/db.ts';
import { concatCommand, hlsEncodeCommand, posterCommand, progressPercent, segmentPosterCommand, segmentsPercent, type LocalSource } from '../lib/ffmpeg-commands.ts';
import { detectContainer, probeMedia, readMediaToolchain, runFfmpeg, type MediaToolchain } from '../lib/ffmpeg.ts';
import { parseMasterPlaylist, segmentAt } from '../lib/hls.ts';
import { MediaRefusedError, mediaLimitViolation, type MediaLimits } from '../lib/media-rules.ts';
import type { Nats } from '../lib/nats.ts';
import { downloadFile, headObject, readObjectText, uploadDirectory, uploadFile, uploadLargeFile, type Storage } from '../lib/s3.ts';
import type { VideoRenditionRecord } from '../lib/schema.ts';
import { isRecordingOf, recordingPath } from '../lib/streams.ts';
import { planPoster, planPosterAt, planStoryboard, storyboardVtt } from '../lib/thumbnails.ts';
import { UnplayableMediaError, type LadderPlan } from '../workflows/plans/ladder.ts';
import type { MediaInfo } from '../workflows/plans/media-info.ts';
import { videoPaths } from '../lib/videos.ts';
import { createLiveThumbnailActivities } from './live-thumbnails.ts';
import { createProgressReporter, PROGRESS } from './video-progress.ts';

export interface MediaActivityDeps {
  db: Db;
  nats: Nats;
  storage: Storage;
  /** nginx-rtmp's recordings (RTMP_RECORDINGS_DIR): the only place recordings are read from. */
  recordingsDir: string;
  /** nginx-rtmp's live HLS (RTMP_HLS_DIR): live thumbnails are taken from it. */
  liveHlsDir: string;
  /** Sources over any of these are refused before encoding (MEDIA_MAX_* settings). */
  limits: MediaLimits;
}

export interface EncodeInput {
  videoId: string;
  sourceKey: string;
  plan: LadderPlan;
  durationSeconds: number;
  /** Size as viewers see it; null for audio-only sources, which get no thumbnails. */
  display: { width: number; height: number } | null;
}

interface ThumbnailKeys {
  posterKey: string;
  storyboardKey: string;
}

export interface PosterInput {
  videoId: string;
  sourceKey: string;
  atSeconds: number;
  /** Size as viewers see it (the video row's width and height). */
  display: { width: number; height: number };
}

export interface EncodeResult {
  renditions: VideoRenditionRecord[];
  thumbnails: ThumbnailKeys | null;
}

/**
 * Scratch space for encodes: a directory per worker process (`pid-<pid>`), and in it one per
 * attempt, removed afterwards. A killed worker leaves its attempts behind; the owner's pid says
 * whose they were.
 */
const MEDIA_WORK_DIR = path.join(os.tmpdir(), 'streamhub-media');
const OWN_SCRATCH = `pid-${process.pid}`;

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes what killed encodes left: the scratch of worker processes that are gone, or that had
 * this process's pid (a container restarts its worker as the same pid 1), and anything else
 * older than any attempt can run (12 h). Called when a media worker starts, before it has
 * scratch of its own; a live worker's scratch on the same host stays.
 */
export async function sweepStaleScratch(workDir = MEDIA_WORK_DIR, maxAgeMs = 13 * 3600_000): Promise<number> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  let removed = 0;
  for (const entry of entries) {
    const dir = path.join(workDir, entry);
    const owner = /^pid-(\d+)$/.exec(entry);
    if (owner) {
      const pid = Number(owner[1]);
      if (pid !== process.pid && isRunning(pid)) continue;
    } else {
      const { mtimeMs } = await stat(dir).catch(() => ({ mtimeMs: Date.now() }));
      if (Date.now() - mtimeMs < maxAgeMs) continue;
    }
    await rm(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** Activities for the `media` task queue: everything that runs FFmpeg. */
export function createMediaActivities(deps: MediaActivityDeps) {
  const { storage } = deps;
  // The binaries do not change under a running worker; asking once keeps probes cheap.
  let toolchain: Promise<MediaToolchain> | undefined;

  async function withScratchDir<T>(videoId: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const own = path.join(MEDIA_WORK_DIR, OWN_SCRATCH);
    await mkdir(own, { recursive: true });
    const dir = await mkdtemp(path.join(own, `${videoId}-`));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The source copied to local scratch: FFmpeg reads user media only as a local file, so
   * nothing inside it (a playlist, a reference) can make a worker fetch a URL.
   */
  async function downloadSource(sourceKey: string, file: string, liveness: Liveness): Promise<void> {
    const size = await downloadFile(storage, sourceKey, file, {
      signal: liveness.signal,
      onData: (bytes) => liveness.progressed({ step: 'downloading', bytes }),
    });
    if (size === null) throw ApplicationFailure.nonRetryable('The uploaded file is missing from storage; upload it again', 'SourceMissing');
    if (size === 0) throw ApplicationFailure.nonRetryable('The file is empty', 'UnplayableMedia');
  }

  /**
   * The segment of the video's largest rendition that holds `atSeconds`, downloaded, and the
   * time within it; null when the video has no rendition playlist or no such segment.
   */
  async function posterSegment(input: PosterInput, dir: string, liveness: Liveness): Promise<{ source: LocalSource; atSeconds: number } | null> {
    const video = await deps.db.selectFrom('videos').select('renditions').where('id', '=', input.videoId).executeTakeFirst();
    const largest = (video?.renditions ?? []).filter((r) => r.height !== null).sort((a, b) => b.height! - a.height!)[0];
    if (!largest) return null;
    const playlistPath = path.posix.join(videoPaths(input.videoId).hls, largest.playlist);
    const playlist = await readObjectText(storage, playlistPath);
    const found = playlist === null ? null : segmentAt(playlist, input.atSeconds);
    if (!found) return null;
    const file = path.join(dir, 'segment.ts');
    const size = await downloadFile(storage, path.posix.join(path.posix.dirname(playlistPath), found.uri), file, {
      signal: liveness.signal,
      onData: (bytes) => liveness.progressed({ step: 'downloading segment', bytes }),
    });
    return size ? { source: { file, format: 'mpegts' }, atSeconds: found.offsetSeconds } : null;
  }

  return {
    ...createLiveThumbnailActivities(deps),

    async reportMediaToolchain(): Promise<MediaToolchain> {
      toolchain ??= readMediaToolchain().catch((err) => {
        toolchain = undefined;
        throw err;
      });
      return toolchain;
    },

    /**
     * ffprobe of the source, downloaded to scratch, checked against the accepted formats and
     * the cost limits. Bad or refused media fails for good; an unreachable S3 is retried.
     */
    async probeVideoSource(input: { videoId: string; sourceKey: string }): Promise<MediaInfo> {
      const liveness = keepAlive(Context.current(), STALL_MS);
      try {
        return await withScratchDir(input.videoId, async (dir) => {
          const file = path.join(dir, 'source');
          await downloadSource(input.sourceKey, file, liveness);
          const info = await probeMedia(file);
          const violation = mediaLimitViolation(info, deps.limits);
          if (violation) throw new MediaRefusedError(violation);
          return info;
        });
      } catch (err) {
        throw asMediaFailure(err);
      } finally {
        liveness.stop();
      }
    },

    /**
     * A broadcast's recording to S3: nginx-rtmp writes one FLV per RTMP session, so a
     * broadcast with reconnects is joined into one file first (stream copy, no re-encode).
     * Files are named, never given by path: each must be a regular file of this stream directly
     * in the recordings directory. Null when nginx left nothing usable (no file or empty files).
     * A local file that cannot be deleted afterwards is logged, counted
     * (`streamhub_recording_cleanup_failures`) and listed in `leftOnDisk`.
     */
    async storeRecording(input: { streamId: string; files?: string[]; /** Runs from before file names: nginx's paths. */ paths?: string[] }): Promise<{ sourceKey: string; leftOnDisk: string[] } | null> {
      const context = Context.current();
      const sourceKey = recordingPath(input.streamId);
      // Already stored by an attempt whose result was lost, which may have died before it removed
      // nginx's copies: they go now (those already gone are no matter).
      if (await headObject(storage, sourceKey)) {
        const names = (input.files ?? (input.paths ?? []).map((p) => path.basename(p))).filter((name) => isRecordingOf(input.streamId, name));
        return { sourceKey, leftOnDisk: await removeRecordings(names.map((name) => path.join(deps.recordingsDir, name)), context) };
      }
      const recordings = await recordingFiles(deps.recordingsDir, input.streamId, input.files ?? (input.paths ?? []).map((p) => path.basename(p)), context);
      const files: string[] = [];
      for (const recording of recordings) if (recording.size > 0) files.push(recording.file);
      if (!files.length) return null;
      return withScratchDir(input.streamId, async (dir) => {
        let joined = files[0]!;
        if (files.length > 1) {
          const listFile = path.join(dir, 'sessions.txt');
          joined = path.join(dir, 'broadcast.flv');
          const concat = concatCommand(files, listFile, joined);
          await writeFile(listFile, concat.list);
          await runFfmpeg(concat.args, { signal: context.cancellationSignal, onProgressLine: () => context.heartbeat() });
        }
        await uploadLargeFile(storage, sourceKey, joined, { signal: context.cancellationSignal, onPart: () => context.heartbeat() });
        // Stored in S3 now; nginx's copies would only fill its disk.
        return { sourceKey, leftOnDisk: await removeRecordings(recordings.map((r) => r.file), context) };
      });
    },

    /**
     * Encodes the whole ladder, the poster and the storyboard in one FFmpeg process and
     * uploads them to `videos/<id>/`. Heartbeats the percentage (visible in the Temporal UI),
     * which also reaches the database and NATS. A retry starts over and writes the same keys.
     */
    async encodeHlsRenditions(input: EncodeInput): Promise<EncodeResult> {
      const context = Context.current();
      const progress = createProgressReporter(deps, input.videoId, context.log);
      const liveness = keepAlive(context, STALL_MS);
      return withScratchDir(input.videoId, async (dir) => {
        const sourceFile = path.join(dir, 'source');
        await downloadSource(input.sourceKey, sourceFile, liveness);
        // Detected again on the bytes encoded here, and named to FFmpeg, so it never re-detects.
        const format = await detectContainer(sourceFile);
        // `out/` mirrors the layout under the video's root, so uploading it whole puts every file at its key.
        const outDir = path.join(dir, 'out');
        const paths = videoPaths(input.videoId);
        const relative = (key: string) => path.posix.relative(paths.root, key);
        const local = (key: string) => path.join(outDir, relative(key));
        await mkdir(local(paths.thumbnails), { recursive: true });
        const { display } = input;
        const thumbnails = display
          ? {
              poster: planPoster(input.durationSeconds, display),
              posterFile: local(paths.poster),
              storyboard: planStoryboard(input.durationSeconds, display),
              storyboardFile: local(paths.storyboardImage),
            }
          : undefined;
        const hlsDir = local(paths.hls);
        const command = hlsEncodeCommand({ file: sourceFile, format }, { hlsDir, thumbnails }, input.plan);
        let encodedPercent = 0;
        const encoded = (percent: number | undefined) => {
          if (percent === undefined) return;
          encodedPercent = Math.max(encodedPercent, percent);
          liveness.progressed({ step: 'encoding', percent: encodedPercent });
          progress.report(Math.floor((encodedPercent * PROGRESS.encoded) / 100));
        };
        // FFmpeg's -progress stays silent until the end when thumbnails are taken (segmentsPercent): the segments tell.
        const stopWatching = watchNewFiles(path.join(hlsDir, command.progressDir), (files) => encoded(segmentsPercent(files, input.plan, input.durationSeconds)));
        try {
          await runFfmpeg(command.args, {
            signal: liveness.signal,
            onProgressLine: (line) => encoded(progressPercent(line, input.plan, input.durationSeconds)),
          });
        } finally {
          stopWatching();
        }
        if (thumbnails) {
          // The VTT names the sprite relative to itself.
          const imageUrl = path.posix.relative(path.posix.dirname(paths.storyboardVtt), paths.storyboardImage);
          await writeFile(local(paths.storyboardVtt), storyboardVtt(thumbnails.storyboard, input.durationSeconds, imageUrl));
        }
        const master = parseMasterPlaylist(await readFile(path.join(hlsDir, command.masterPlaylist), 'utf8'));
        let uploaded = 0;
        const files = await uploadDirectory(storage, outDir, paths.root.replace(/\/$/, ''), {
          signal: liveness.signal,
          isLast: (file) => file.endsWith('.m3u8'),
          onUploaded: () => liveness.progressed({ step: 'uploading', files: ++uploaded }),
        });
        await progress.flush(PROGRESS.encoded);
        context.log.info('renditions uploaded', { videoId: input.videoId, files: files.length });
        const hasThumbnails = files.includes(relative(paths.poster)) && files.includes(relative(paths.storyboardImage));
        return {
          renditions: renditionRecords(input.plan, master),
          thumbnails: hasThumbnails ? { posterKey: paths.poster, storyboardKey: paths.storyboardVtt } : null,
        };
      })
        .catch((err: unknown) => {
          throw asMediaFailure(err);
        })
        .finally(liveness.stop);
    },

    /**
     * The poster taken again at the owner's chosen time (PATCH /videos/{id}), to its own key per
     * time. It reads one HLS segment of the video's largest rendition, the one holding that time
     * (a few MB), not the source (up to 5 GiB); the pinned source is the fallback for a video
     * without such a segment. Idempotent: a retry, or a second run for the same time, finds the
     * object written and returns its key.
     */
    async extractPoster(input: PosterInput): Promise<{ posterKey: string }> {
      const posterKey = videoPaths(input.videoId).posterAt(input.atSeconds);
      if (await headObject(storage, posterKey)) return { posterKey };
      const liveness = keepAlive(Context.current(), STALL_MS);
      try {
        return await withScratchDir(input.videoId, async (dir) => {
          const posterFile = path.join(dir, 'poster.jpg');
          const extract = async (args: string[]) => {
            liveness.progressed({ step: 'extracting' });
            await runFfmpeg(args, { signal: liveness.signal });
            return stat(posterFile).then((info) => info.size > 0, () => false);
          };
          const segment = await posterSegment(input, dir, liveness);
          // A time in a segment's last instant may decode no frame: the source has it.
          if (!segment || !(await extract(segmentPosterCommand(segment.source, planPosterAt(segment.atSeconds, input.display), posterFile)))) {
            const sourceFile = path.join(dir, 'source');
            await downloadSource(input.sourceKey, sourceFile, liveness);
            const source = { file: sourceFile, format: await detectContainer(sourceFile) };
            if (!(await extract(posterCommand(source, planPosterAt(input.atSeconds, input.display), posterFile)))) {
              throw ApplicationFailure.nonRetryable(`The video has no frame at ${input.atSeconds} s`, 'UnplayableMedia');
            }
          }
          await uploadFile(storage, posterKey, posterFile, liveness.signal);
          return { posterKey };
        });
      } catch (err) {
        throw asMediaFailure(err);
      } finally {
        liveness.stop();
      }
    },
  };
}

/**
 * The recordings named for a stream, resolved inside the recordings directory: a name that
 * is not `<stream id>-<time>.flv` or a path that is not a regular file (a link, a directory)
 * is skipped with a warning, never read. A missing one throws: this worker may not see
 * nginx's disk, another may.
 */
async function recordingFiles(recordingsDir: string, streamId: string, names: string[], context: Context): Promise<{ file: string; size: number }[]> {
  const found: { file: string; size: number }[] = [];
  for (const name of names) {
    if (!isRecordingOf(streamId, name)) {
      context.log.warn('recording skipped: not a recording of this stream', { streamId, name });
      continue;
    }
    const file = path.join(recordingsDir, name);
    const info = await lstat(file);
    if (!info.isFile()) {
      context.log.warn('recording skipped: not a regular file', { streamId, path: file });
      continue;
    }
    found.push({ file, size: info.size });
  }
  return found;
}

/** Deletes uploaded recordings; returns the ones that stay on disk, each logged and counted. */
async function removeRecordings(files: string[], context: Context): Promise<string[]> {
  const left: string[] = [];
  for (const file of files) {
    try {
      await rm(file, { force: true });
    } catch (err) {
      left.push(file);
      context.log.warn('recording stored in S3 but not deleted from disk', { path: file, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (left.length) {
    context.metricMeter.createCounter('streamhub_recording_cleanup_failures', 'files', 'Recordings stored in S3 whose local file could not be deleted').add(left.length);
  }
  return left;
}

/**
 * Calls `onChange` with the names in `dir` each time their number grows, looking every second
 * (a directory not created yet is empty). Returns the function that stops it.
 */
function watchNewFiles(dir: string, onChange: (names: string[]) => void): () => void {
  let seen = 0;
  let stopped = false;
  const timer = setInterval(() => {
    readdir(dir).then(
      (names) => {
        if (stopped || names.length <= seen) return;
        seen = names.length;
        onChange(names);
      },
      () => {},
    );
  }, 1000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Bad media as the workflow sees it: a failure that no retry can fix, with the reason a person reads. */
function asMediaFailure(err: unknown): unknown {
  if (err instanceof MediaRefusedError) return ApplicationFailure.nonRetryable(err.message, 'MediaRefused');
  if (err instanceof UnplayableMediaError) return ApplicationFailure.nonRetryable(err.message, 'UnplayableMedia');
  return err;
}

interface Liveness {
  signal: AbortSignal;
  progressed(details: unknown): void;
  stop(): void;
}

/** An encode that has not moved for this long is hung: its attempt fails and is retried. */
const STALL_MS = 5 * 60_000;

/**
 * Heartbeats every second while an activity runs, so a live worker is not taken for a dead
 * one while FFmpeg starts up on a busy machine; and aborts the work when `progressed()` has
 * not been called for `stallMs`, so a hung FFmpeg fails its attempt instead of holding it.
 */
function keepAlive(context: Context, stallMs: number): Liveness {
  const stalled = new AbortController();
  let details: unknown = { step: 'starting' };
  let lastProgressAt = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - lastProgressAt > stallMs) stalled.abort(new Error(`FFmpeg made no progress for ${stallMs / 1000} s`));
    context.heartbeat(details);
  }, 1000);
  context.heartbeat(details);
  return {
    signal: AbortSignal.any([context.cancellationSignal, stalled.signal]),
    progressed(next: unknown) {
      details = next;
      lastProgressAt = Date.now();
    },
    stop: () => clearInterval(timer),
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
