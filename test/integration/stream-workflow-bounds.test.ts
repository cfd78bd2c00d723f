import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import type { StreamStatusMessage } from '../../lib/streams.ts';
import { searchAttributes } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { StreamInput, streamWorkflow } from '../../workflows/stream.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { createStream, dropEncoder, exitCode, startLiveStack, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { settledVideo } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// `stream/<id>` stays bounded: reconnects per broadcast, history (continue-as-new carrying
// the stream's state), and the life of a stream nobody publishes to. Real nginx-rtmp,
// FFmpeg, API and Temporal workers; durations shortened through the workflow's inputs.

const t = useTestContext();
let live: LiveStack;
let creator: TestUser;
let fan: TestUser;
const statuses: StreamStatusMessage[] = [];

beforeAll(async () => {
  // Through the API's config, as an operator sets STREAM_MAX_RECONNECTS.
  live = await startLiveStack(t.ctx, { maxReconnects: 1 });
  creator = await newUser(live.app);
  fan = await newUser(live.app);
  await call(live.app, 'POST', `/api/v1/users/${creator.id}/follow`, { headers: fan.auth });
  t.ctx.nats.connection.subscribe(t.ctx.nats.subject('stream.*.status'), {
    callback: (_err, msg) => statuses.push(JSON.parse(msg.string()) as StreamStatusMessage),
  });
});
afterAll(() => live?.close());

const streamHandle = (streamId: string, runId?: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(streamId), runId);
const statusesOf = (streamId: string) => statuses.filter((s) => s.streamId === streamId).map((s) => s.status);

/** The API starts every stream with production durations; restart one with shorter ones. */
async function restartWorkflow(streamId: string, input: Partial<StreamInput>) {
  await streamHandle(streamId).terminate('restarted with test durations');
  await t.ctx.temporal.client.workflow.start<typeof streamWorkflow>('streamWorkflow', {
    workflowId: workflowIds.stream(streamId),
    taskQueue: t.ctx.config.temporal.taskQueue,
    args: [{ streamId, ownerId: creator.id, title: 'Live test', mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, reconnectWindowSeconds: 60, ...input }],
    typedSearchAttributes: [
      { key: searchAttributes.StreamId, value: streamId },
      { key: searchAttributes.CreatorId, value: creator.id },
    ],
  });
}

/** Every run of `stream/<id>` after the terminated one, oldest first, with its input. */
async function runsOf(streamId: string, after: Date) {
  const runs: { runId: string; status: string; input: StreamInput }[] = [];
  for await (const run of t.ctx.temporal.client.workflow.list({ query: `WorkflowId = '${workflowIds.stream(streamId)}' AND StartTime > '${after.toISOString()}'` })) {
    const history = await streamHandle(streamId, run.runId).fetchHistory();
    const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    runs.push({ runId: run.runId, status: run.status.name, input: defaultPayloadConverter.fromPayload<StreamInput>(payload) });
  }
  return runs.reverse();
}

async function liveNotifications(streamId: string) {
  const rows = await t.ctx.db.selectFrom('notifications').select('entity_id').where('recipient_id', '=', fan.id).where('type', '=', 'stream_live').execute();
  return rows.filter((r) => r.entity_id === streamId);
}

describe('stream workflow bounds', { timeout: 300_000 }, () => {
  it('ends a broadcast whose encoder drops once more than STREAM_MAX_RECONNECTS allows', async () => {
    const stream = await createStream(live.app, creator, { reconnectWindowSeconds: 60 });
    await withWorkers(t.ctx, async () => {
      const first = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(live.app, stream.id, 'live');
      await sleep(2500); // a few seconds of recording per session
      await dropEncoder(first);
      await waitForStatus(live.app, stream.id, 'reconnecting');
      // The one reconnect this broadcast may make.
      const second = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(live.app, stream.id, 'live');
      await sleep(2500);
      await dropEncoder(second);
      await waitForStatus(live.app, stream.id, 'ended');
      const third = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      expect(await exitCode(third, 'a publish after the end')).not.toBe(0);
      const result = await streamHandle(stream.id).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 2 });
      expect(result.recordings).toHaveLength(2);
      expect((await settledVideo(live.app, creator, result.vodVideoId!)).video.status).toBe('ready');
    });
    // No second "reconnecting": the second drop ended the broadcast at once.
    await waitUntil(() => statusesOf(stream.id).includes('ended'), 'the ended status on NATS');
    expect(statusesOf(stream.id)).toEqual(['live', 'reconnecting', 'live', 'ended']);
  });

  it('continues as new while idle and while live, keeping sessions, title, recordings and clocks', async () => {
    const stream = await createStream(live.app, creator, { title: 'First title' });
    const restartedAt = new Date();
    // A bound this small continues as new at most waits; the default is 4000 events.
    await restartWorkflow(stream.id, { title: 'First title', maxReconnects: 5, continueAsNewAfterEvents: 20 });
    await withWorkers(t.ctx, async () => {
      // Updates while idle grow the history (each one an activity).
      for (const title of ['Second title', 'Third title']) {
        const renamed = await call(live.app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title }, headers: creator.auth });
        expect(renamed.status, renamed.text).toBe(200);
      }
      const first = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(live.app, stream.id, 'live');
      await sleep(2500);
      await dropEncoder(first);
      await waitForStatus(live.app, stream.id, 'reconnecting');
      const again = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(live.app, stream.id, 'live');
      await sleep(2500);
      expect((await call(live.app, 'POST', `/api/v1/streams/${stream.id}/end`, { headers: creator.auth })).status).toBe(202);
      expect(await exitCode(again, 'the encoder the end cuts off')).not.toBe(0);
      const result = await streamHandle(stream.id).result();
      expect(result).toMatchObject({ status: 'ended', sessions: 2 });
      expect(result.recordings).toHaveLength(2);
      const { video } = await settledVideo(live.app, creator, result.vodVideoId!);
      // The title changed in the first run reached the VOD made by the last one.
      expect(video).toMatchObject({ status: 'ready', title: 'Third title' });
      expect(video.durationSeconds).toBeGreaterThan(3);
    });

    // Visibility catches up with the closed run shortly after its result.
    let runs = await runsOf(stream.id, restartedAt);
    for (let i = 0; i < 100 && runs.at(-1)?.status !== 'COMPLETED'; i++) runs = (await sleep(100), await runsOf(stream.id, restartedAt));
    expect(runs.at(-1)!.status).toBe('COMPLETED');
    const continued = runs.slice(0, -1);
    expect(continued.length).toBeGreaterThan(0);
    expect(continued.every((r) => r.status === 'CONTINUED_AS_NEW')).toBe(true);
    const carried = runs.slice(1).map((r) => r.input.carried!);
    // Each phase handed on: waiting for the first publish, and the broadcast itself.
    expect(carried.some((c) => c.state.status === 'idle' && c.progress.title === 'Third title')).toBe(true);
    expect(carried.some((c) => c.state.status === 'live' || c.state.status === 'reconnecting')).toBe(true);
    // The clocks are carried, not restarted: one idle clock and one broadcast cap throughout.
    expect(new Set(carried.map((c) => c.progress.waitingSince)).size).toBe(1);
    expect(new Set(carried.filter((c) => c.progress.broadcastEndsAt !== null).map((c) => c.progress.broadcastEndsAt)).size).toBe(1);
    // One broadcast: one "is live", one status sequence, whatever the number of runs.
    await waitUntil(() => statusesOf(stream.id).includes('ended'), 'the ended status on NATS');
    expect(statusesOf(stream.id)).toEqual(['live', 'reconnecting', 'live', 'ended']);
    for (let i = 0; i < 100 && !(await liveNotifications(stream.id)).length; i++) await sleep(100);
    expect(await liveNotifications(stream.id)).toHaveLength(1);
    const last = await streamHandle(stream.id).describe();
    expect(last.typedSearchAttributes.get(searchAttributes.StreamId)).toBe(stream.id);
    expect(last.typedSearchAttributes.get(searchAttributes.Phase)).toBe('ended');
  });

  it('cancels a stream nobody publishes to after the idle period, and its key stops working', async () => {
    const stream = await createStream(live.app, creator);
    await restartWorkflow(stream.id, { idleCloseSeconds: 2 });
    await withWorkers(t.ctx, async () => {
      expect(await streamHandle(stream.id).result()).toMatchObject({ status: 'cancelled', sessions: 0 });
    });
    expect((await call(live.app, 'GET', `/api/v1/streams/${stream.id}`)).json.data.status).toBe('cancelled');
    const renamed = await call(live.app, 'PATCH', `/api/v1/streams/${stream.id}`, { body: { title: 'Never aired' }, headers: creator.auth });
    expect(renamed.status).toBe(409);
    expect(renamed.json.error.code).toBe('conflict');
    await waitUntil(() => statusesOf(stream.id).includes('cancelled'), 'the cancelled status on NATS');
    expect(statusesOf(stream.id)).toEqual(['cancelled']);
    const late = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
    expect(await exitCode(late, 'a publish to a closed stream')).not.toBe(0);
  });
});
