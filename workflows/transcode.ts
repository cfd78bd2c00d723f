import type { Duration, RetryPolicy } from '@temporalio/common';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { MediaActivities } from '../activities/media.ts';
import type { VideoActivities } from '../activities/videos.ts';
import { planLadder, UnplayableMediaError } from './plans/ladder.ts';
import { displaySize } from './plans/media-info.ts';
import { searchAttributes } from './search-attributes.ts';

type TranscodePhase = 'probing' | 'encoding' | 'publishing' | 'ready' | 'failed' | 'cancelled';

export interface TranscodeInput {
  videoId: string;
  /** S3 path of the source (an upload, or a live recording) without the deployment's key prefix. */
  sourceKey: string;
  mediaTaskQueue: string;
  /** How long the encoder may go silent before its attempt is given to another worker. */
  heartbeatTimeout?: Duration;
  /** Attempts of each FFmpeg step before the video is marked failed. */
  mediaAttempts?: number;
  /**
   * Set when `sourceKey` is where an upload URL writes: the object is first copied to a key
   * no URL can write and its size checked there, so what is checked is what gets encoded.
   */
  upload?: { maxBytes: number };
}

interface TranscodeResult {
  videoId: string;
  renditions: string[];
  durationSeconds: number;
}

export const transcodeStateQuery = defineQuery<{ phase: TranscodePhase }>('state');

/** Failure types that are the media's fault: retrying cannot help. */
const PERMANENT_FAILURES = new Set(['UnplayableMedia', 'MediaRefused', 'SourceMissing']);

/**
 * The reason a person reads on the video when a transcode gives up. Only the media's own
 * faults are described; an internal error's text stays in the workflow history for operators.
 */
function failureReason(err: unknown): string {
  if (err instanceof UnplayableMediaError) return err.message;
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const cause = err.cause;
    if (cause.type && PERMANENT_FAILURES.has(cause.type)) return cause.message;
  }
  return 'Transcoding failed on our side; retry it later';
}

/**
 * `video/<id>/transcode`: pin an upload → probe → plan the ladder → encode HLS and thumbnails
 * → ready. FFmpeg steps run on the media task queue; bookkeeping on the platform queue. Bad
 * media fails at once with a human reason; transient faults retry with backoff; cancelling
 * cleans up, and so does a publish that finds the video deleted.
 */
export async function transcodeWorkflow(input: TranscodeInput): Promise<TranscodeResult> {
  const { videoId } = input;
  const attempts = input.mediaAttempts ?? 6;
  const mediaRetry: RetryPolicy = { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: attempts };
  const media = proxyActivities<MediaActivities>({
    taskQueue: input.mediaTaskQueue,
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: input.heartbeatTimeout ?? '1 minute',
    retry: mediaRetry,
    // Wait for FFmpeg to stop before cleaning up, or a late upload could outlive the cleanup.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  // The probe downloads the source first: up to 5 GiB for an upload, more for a long recording.
  const probe = proxyActivities<MediaActivities>({
    taskQueue: input.mediaTaskQueue,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: input.heartbeatTimeout ?? '1 minute',
    retry: mediaRetry,
  });
  const platformRetry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
  const platform = proxyActivities<VideoActivities>({ startToCloseTimeout: '1 minute', retry: platformRetry });
  // One server-side copy of up to 5 GiB.
  const pin = proxyActivities<VideoActivities>({ startToCloseTimeout: '30 minutes', retry: platformRetry });

  let phase: TranscodePhase = 'probing';
  const enter = (next: TranscodePhase) => {
    phase = next;
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: next }]);
  };
  setHandler(transcodeStateQuery, () => ({ phase }));
  enter('probing');

  try {
    const sourceKey = input.upload
      ? (await pin.pinUploadedSource({ videoId, uploadKey: input.sourceKey, maxBytes: input.upload.maxBytes })).sourceKey
      : input.sourceKey;
    if (sourceKey === null) throw ApplicationFailure.nonRetryable('The video was deleted before it was transcoded', 'VideoDeleted');
    const info = await probe.probeVideoSource({ videoId, sourceKey });
    const plan = planLadder(info);

    // Thumbnails are taken by the same FFmpeg process as the renditions (one decode).
    enter('encoding');
    const { renditions, thumbnails } = await media.encodeHlsRenditions({
      videoId,
      sourceKey,
      plan,
      durationSeconds: info.durationSeconds,
      display: info.video ? displaySize(info.video) : null,
    });

    enter('publishing');
    const { published } = await platform.publishVideo({ videoId, info, renditions, thumbnails });
    if (!published) throw ApplicationFailure.nonRetryable('The video was deleted while it was being transcoded', 'VideoDeleted');
    enter('ready');
    return { videoId, renditions: renditions.map((r) => r.name), durationSeconds: info.durationSeconds };
  } catch (err) {
    // A cancel that reaches an encode whose worker died ends that encode as timed out, not
    // cancelled: the run is still being cancelled, and still cleans up.
    if (isCancellation(err) || (CancellationScope.current().consideredCancelled && patched('transcode-settles-every-cancel'))) {
      await CancellationScope.nonCancellable(() => platform.settleCancelledTranscode({ videoId }));
      enter('cancelled');
      throw isCancellation(err) ? err : new CancelledFailure('Transcode cancelled while its encode was out of reach', [], err instanceof Error ? err : undefined);
    }
    if (err instanceof ApplicationFailure && err.type === 'VideoDeleted') throw err;
    const reason = failureReason(err);
    await platform.markVideoFailed({ videoId, reason });
    enter('failed');
    throw ApplicationFailure.nonRetryable(reason, 'TranscodeFailed');
  }
}
