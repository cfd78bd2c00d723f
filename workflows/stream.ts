import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { MediaActivities } from '../activities/media.ts';
import type { StreamActivities } from '../activities/streams.ts';
import type { Audience, NotificationEvent } from '../lib/notifications.ts';
import type { StreamStatus } from '../lib/schema.ts';
import { fanoutWorkflow } from './fanout.ts';
import { workflowIds } from './ids.ts';
import { searchAttributes } from './search-attributes.ts';
import { transcodeWorkflow } from './transcode.ts';

export interface StreamInput {
  streamId: string;
  ownerId: string;
  title: string;
  mediaTaskQueue: string;
  /** ISO time of a scheduled stream; absent for "go live whenever". */
  scheduledAt?: string | null;
  reconnectWindowSeconds: number;
  // Durations are inputs so tests can shorten them.
  /** A broadcast ends after this long whatever happens (default 12 h). */
  maxBroadcastSeconds?: number;
  /** How long after its scheduled time a stream that never started is cancelled (default 1 h). */
  scheduledGraceSeconds?: number;
  /** How long before its scheduled time followers are reminded (default 15 min). */
  reminderLeadSeconds?: number;
  /** How long to wait, after the end, for nginx to report the recordings it closed (default 30 s). */
  recordingGraceSeconds?: number;
  /** How often a broadcast may resume after a dropped encoder; the next drop ends it (default 50). */
  maxReconnects?: number;
  /** A stream nobody publishes to is cancelled this long after it was created (default 30 days). */
  idleCloseSeconds?: number;
  /** A run continues as new once its history holds this many events, or earlier when Temporal suggests it (default 4000). */
  continueAsNewAfterEvents?: number;
  /** Set only by continue-as-new: where the previous run of this stream stood. */
  carried?: CarriedStream;
}

/** Everything one run of `stream/<id>` hands the next when it continues as new. */
export interface CarriedStream {
  state: StreamState;
  progress: StreamProgress;
}

interface StreamProgress {
  title: string;
  endRequested: boolean;
  /** Workflow time (ms) the stream began waiting for its first publish: the idle clock. */
  waitingSince: number;
  /** The scheduled reminder went out (or was due when the stream went live). */
  reminded: boolean;
  /** Set when the broadcast starts: when it ends whatever happens. */
  broadcastEndsAt: number | null;
  /** Set while reconnecting: when the window closes. */
  reconnectUntil: number | null;
}

export interface StreamState {
  status: StreamStatus;
  publishingSession: string | null;
  sessions: number;
  recordings: string[];
  vodVideoId: string | null;
}

interface StreamInfoUpdate {
  title?: string;
  description?: string;
  categoryId?: string | null;
}

export const publishStartedSignal = defineSignal<[{ sessionId: string }]>('publishStarted');
export const publishEndedSignal = defineSignal<[{ sessionId: string }]>('publishEnded');
/**
 * A recording nginx closed, by its file name in the recordings directory. Histories from
 * before record-done was checked carry nginx's whole path instead; only its name is used.
 */
export const recordingReadySignal = defineSignal<[{ file: string } | { path: string }]>('recordingReady');
export const endStreamSignal = defineSignal('end');
export const streamStateQuery = defineQuery<StreamState>('state');
export const updateInfoUpdate = defineUpdate<{ title: string; description: string; categoryId: string | null }, [StreamInfoUpdate]>('updateInfo');

// The workflow clock: Temporal replaces Date inside workflows with a replay-safe one.
const now = () => new Date().getTime();
const seconds = (value: number | undefined, fallback: number) => (value ?? fallback) * 1000;
const fileName = (recording: { file: string } | { path: string }) =>
  'file' in recording ? recording.file : recording.path.slice(recording.path.lastIndexOf('/') + 1);

/**
 * `stream/<id>`: the life of one stream (DESIGN.md §4). Waits for its first publish (or its
 * scheduled time; an idle stream is cancelled after `idleCloseSeconds`), goes live and tells
 * followers once per broadcast, rides out dropped connections inside the reconnect window
 * (at most `maxReconnects` times), ends on expiry, owner request or the 12-hour cap, then
 * turns the recording into a VOD and tells followers when it is ready. Every wait is a point
 * where a long history continues as new, carrying the stream's state.
 */
export async function streamWorkflow(input: StreamInput): Promise<StreamState> {
  const { streamId, ownerId } = input;
  const activities = proxyActivities<StreamActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const recordingsToS3 = proxyActivities<MediaActivities>({
    taskQueue: input.mediaTaskQueue,
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
  });

  const state: StreamState = input.carried?.state ?? {
    status: input.scheduledAt ? 'scheduled' : 'idle',
    publishingSession: null,
    sessions: 0,
    recordings: [],
    vodVideoId: null,
  };
  const progress: StreamProgress = input.carried?.progress ?? {
    title: input.title,
    endRequested: false,
    waitingSince: now(),
    reminded: false,
    broadcastEndsAt: null,
    reconnectUntil: null,
  };

  setHandler(streamStateQuery, () => state);
  setHandler(publishStartedSignal, ({ sessionId }) => {
    if (state.publishingSession !== sessionId) state.sessions += 1;
    state.publishingSession = sessionId;
  });
  setHandler(publishEndedSignal, ({ sessionId }) => {
    if (state.publishingSession === sessionId) state.publishingSession = null;
  });
  setHandler(recordingReadySignal, (recording) => {
    const file = fileName(recording);
    if (!state.recordings.includes(file)) state.recordings.push(file);
  });
  setHandler(endStreamSignal, () => {
    progress.endRequested = true;
  });
  setHandler(
    updateInfoUpdate,
    async (change) => {
      const updated = await activities.updateStreamInfo({ streamId, ...change });
      progress.title = updated.title;
      return updated;
    },
    {
      validator: (change) => {
        if (change.title !== undefined && (change.title.trim().length < 1 || change.title.length > 140)) throw new Error('title must be 1–140 characters');
        if (change.description !== undefined && change.description.length > 5000) throw new Error('description must be at most 5000 characters');
        if (state.status === 'ended' || state.status === 'cancelled') throw new Error(`the stream has ${state.status}`);
      },
    },
  );

  const setStatus = async (status: StreamStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: status }]);
    await activities.setStreamStatus({ streamId, status });
  };
  const notifyFollowers = async (event: NotificationEvent) => {
    const audience: Audience = { kind: 'followers', userId: ownerId };
    try {
      await startChild(fanoutWorkflow, {
        workflowId: workflowIds.fanout(event.id),
        args: [{ event, audience }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      // The same event raised twice (a replayed end, a retried reminder) is delivered once.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  };
  const publishing = () => state.publishingSession !== null;
  const historyBound = input.continueAsNewAfterEvents ?? 4000;
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= historyBound;

  /**
   * Waits for `done()` until the workflow-clock `deadline` (ms; null waits without one) and
   * says whether it came. A history past its bound continues as new from here instead,
   * once the running update handlers have finished.
   */
  const waitFor = async (done: () => boolean, deadline: number | null): Promise<boolean> => {
    const woken = () => done() || historyFull();
    const beforeDeadline = deadline === null ? (await condition(woken), true) : await condition(woken, Math.max(deadline - now(), 1));
    if (done()) return true;
    if (!beforeDeadline) return false;
    await condition(allHandlersFinished);
    return continueAsNew<typeof streamWorkflow>({ ...input, carried: { state, progress } });
  };

  /** Before the first publish: true once an encoder is on, false when the stream is to be cancelled. */
  const firstPublish = async (): Promise<boolean> => {
    const begun = () => publishing() || progress.endRequested;
    if (input.scheduledAt) {
      const startsAt = Date.parse(input.scheduledAt);
      if (!progress.reminded) {
        const remindAt = startsAt - seconds(input.reminderLeadSeconds, 15 * 60);
        if (remindAt > now()) await waitFor(begun, remindAt);
        if (!begun()) {
          await notifyFollowers({ id: `stream_scheduled:${streamId}`, type: 'stream_scheduled', actorId: ownerId, entityType: 'stream', entityId: streamId, payload: { title: progress.title, scheduledAt: input.scheduledAt } });
        }
        progress.reminded = true;
      }
      await waitFor(begun, startsAt + seconds(input.scheduledGraceSeconds, 60 * 60));
    } else {
      // Runs started before idle streams were closed keep waiting without a deadline.
      const idleCloses = patched('idle-close');
      await waitFor(begun, idleCloses ? progress.waitingSince + seconds(input.idleCloseSeconds, 30 * 86_400) : null);
    }
    return publishing();
  };

  const maxReconnects = input.maxReconnects ?? 50;
  const reconnects = () => Math.max(state.sessions - 1, 0);

  /** Live, with reconnects inside the window continuing the same broadcast; returns when it ends. */
  const broadcast = async (): Promise<void> => {
    for (;;) {
      if (state.status === 'live') {
        const endsAt = progress.broadcastEndsAt ?? now();
        const dropped = await waitFor(() => !publishing() || progress.endRequested || reconnects() > maxReconnects, endsAt);
        // Past its reconnects, a drop ends the broadcast at once (an encoder back that fast is cut off).
        if (!dropped || progress.endRequested || reconnects() >= maxReconnects) return;
        await setStatus('reconnecting');
        progress.reconnectUntil = now() + Math.max(input.reconnectWindowSeconds * 1000, 1);
      } else {
        const back = await waitFor(() => publishing() || progress.endRequested, progress.reconnectUntil ?? now());
        if (!back || progress.endRequested || reconnects() > maxReconnects) return;
        await setStatus('live');
      }
    }
  };

  upsertSearchAttributes([{ key: searchAttributes.Phase, value: state.status }]);

  if (state.status === 'idle' || state.status === 'scheduled') {
    if (!(await firstPublish())) {
      await setStatus('cancelled');
      return finish();
    }
    await setStatus('live');
    await activities.markBroadcastStarted({ streamId });
    await notifyFollowers({ id: `stream_live:${streamId}`, type: 'stream_live', actorId: ownerId, entityType: 'stream', entityId: streamId, payload: { title: progress.title } });
    progress.broadcastEndsAt = now() + seconds(input.maxBroadcastSeconds, 12 * 3600);
  }
  await broadcast();

  // Ended first, so an encoder that reconnects at once is refused; then cut the current one.
  await setStatus('ended');
  if (publishing()) await activities.dropPublisher({ streamId });
  // nginx reports each closed recording after its publisher is gone.
  await condition(() => state.recordings.length >= state.sessions, seconds(input.recordingGraceSeconds, 30));
  if (!state.recordings.length) return finish();

  const recording = await recordingsToS3.storeRecording({ streamId, files: state.recordings });
  if (!recording) return finish();
  const video = await activities.createRecordingVideo({ streamId, sourceKey: recording.sourceKey, title: progress.title });
  state.vodVideoId = video.videoId;
  try {
    await executeChild(transcodeWorkflow, {
      workflowId: workflowIds.transcode(video.videoId),
      args: [{ videoId: video.videoId, sourceKey: recording.sourceKey, mediaTaskQueue: input.mediaTaskQueue }],
      typedSearchAttributes: [
        { key: searchAttributes.VideoId, value: video.videoId },
        { key: searchAttributes.StreamId, value: streamId },
        { key: searchAttributes.CreatorId, value: ownerId },
      ],
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The transcode marked the video failed with its reason; its owner can retry it. The stream itself ended fine.
    return finish();
  }
  // `hidden` is absent from results recorded before moderation existed: those were never hidden.
  if (video.visibility !== 'public' || video.hidden) return finish();
  await notifyFollowers({ id: `video_published:${video.videoId}`, type: 'video_published', actorId: ownerId, entityType: 'video', entityId: video.videoId, payload: { title: progress.title, streamId } });
  return finish();

  /** An info update accepted just before the end still gets its answer. */
  async function finish(): Promise<StreamState> {
    await condition(allHandlersFinished);
    return state;
  }
}
