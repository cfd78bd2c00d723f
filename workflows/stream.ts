import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
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
 * scheduled time), goes live and tells followers once per broadcast, rides out dropped
 * connections inside the reconnect window, ends on expiry, owner request or the 12-hour
 * cap, then turns the recording into a VOD and tells followers when it is ready.
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

  const state: StreamState = {
    status: input.scheduledAt ? 'scheduled' : 'idle',
    publishingSession: null,
    sessions: 0,
    recordings: [],
    vodVideoId: null,
  };
  let endRequested = false;
  let info = { title: input.title };

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
    endRequested = true;
  });
  setHandler(
    updateInfoUpdate,
    async (change) => {
      const updated = await activities.updateStreamInfo({ streamId, ...change });
      info = { title: updated.title };
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

  upsertSearchAttributes([{ key: searchAttributes.Phase, value: state.status }]);

  // Before the first publish.
  if (input.scheduledAt) {
    const startsIn = Date.parse(input.scheduledAt) - now();
    const remindIn = startsIn - seconds(input.reminderLeadSeconds, 15 * 60);
    if (remindIn > 0) await condition(() => publishing() || endRequested, remindIn);
    if (!publishing() && !endRequested) {
      await notifyFollowers({ id: `stream_scheduled:${streamId}`, type: 'stream_scheduled', actorId: ownerId, entityType: 'stream', entityId: streamId, payload: { title: info.title, scheduledAt: input.scheduledAt } });
    }
    const deadline = Date.parse(input.scheduledAt) + seconds(input.scheduledGraceSeconds, 60 * 60) - now();
    await condition(() => publishing() || endRequested, Math.max(deadline, 1));
  } else {
    await condition(() => publishing() || endRequested);
  }
  if (!publishing()) {
    await setStatus('cancelled');
    return state;
  }

  // Live, with reconnects inside the window continuing the same broadcast.
  await setStatus('live');
  await activities.markBroadcastStarted({ streamId });
  await notifyFollowers({ id: `stream_live:${streamId}`, type: 'stream_live', actorId: ownerId, entityType: 'stream', entityId: streamId, payload: { title: info.title } });
  const endsAt = now() + seconds(input.maxBroadcastSeconds, 12 * 3600);
  for (;;) {
    const ended = !(await condition(() => !publishing() || endRequested, Math.max(endsAt - now(), 1)));
    if (ended || endRequested) break;
    await setStatus('reconnecting');
    const back = await condition(() => publishing() || endRequested, Math.max(input.reconnectWindowSeconds * 1000, 1));
    if (!back || endRequested || !publishing()) break;
    await setStatus('live');
  }

  // Ended first, so an encoder that reconnects at once is refused; then cut the current one.
  await setStatus('ended');
  if (publishing()) await activities.dropPublisher({ streamId });
  // nginx reports each closed recording after its publisher is gone.
  await condition(() => state.recordings.length >= state.sessions, seconds(input.recordingGraceSeconds, 30));
  if (!state.recordings.length) return state;

  const recording = await recordingsToS3.storeRecording({ streamId, files: state.recordings });
  if (!recording) return state;
  const video = await activities.createRecordingVideo({ streamId, sourceKey: recording.sourceKey, title: info.title });
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
    return state;
  }
  if (video.visibility !== 'public') return state;
  await notifyFollowers({ id: `video_published:${video.videoId}`, type: 'video_published', actorId: ownerId, entityType: 'video', entityId: video.videoId, payload: { title: info.title, streamId } });
  return state;
}
