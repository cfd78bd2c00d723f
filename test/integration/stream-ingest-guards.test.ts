import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { lstat, readFile, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import { headObject } from '../../lib/s3.ts';
import { recordingPath } from '../../lib/streams.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { StreamInput, streamWorkflow } from '../../workflows/stream.ts';
import { installRuntime } from '../../workers/runtime.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setStatus, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { createStream, type CreatedStream, dropEncoder, exitCode, startLiveStack, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { freePort } from '../support/ports.ts';
import { settledVideo } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';

// What nginx-rtmp's hooks may no longer be talked into: a broadcast by an account that may
// not act, and reading (then deleting) a file outside the recordings directory. Real
// nginx-rtmp, FFmpeg, API, Temporal workers, Postgres and S3.

const run = promisify(execFile);
const t = useTestContext();
let live: LiveStack;
let metricsUrl: string;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'stream-guards-'));

beforeAll(async () => {
  // The workers' Prometheus endpoint, as in production (the Runtime is once per process).
  const metricsPort = await freePort();
  installRuntime(t.ctx.logger, { metricsHost: '127.0.0.1', metricsPort });
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  live = await startLiveStack(t.ctx);
});
afterAll(async () => {
  await live?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const streamHandle = (streamId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.stream(streamId));

async function signalsOf(streamId: string) {
  const history = await streamHandle(streamId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a): a is temporal.api.history.v1.IWorkflowExecutionSignaledEventAttributes => !!a)
    .map((a) => ({ name: a.signalName, args: (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)) }));
}

async function notificationsOf(userId: string, type: string) {
  return t.ctx.db.selectFrom('notifications').select('entity_id').where('recipient_id', '=', userId).where('type', '=', type as never).execute();
}

/** Posts a record-done the way nginx-rtmp does: a form body, the secret in the query. */
async function reportRecording(streamId: string, reportedPath: string) {
  const res = await live.app.request(`/internal/rtmp/record-done?secret=${t.ctx.config.internalSecret}`, {
    method: 'POST',
    body: new URLSearchParams({ call: 'record_done', app: 'broadcast', name: streamId, path: reportedPath }),
  });
  return { status: res.status, text: await res.text() };
}

/** A small FLV recording, as nginx-rtmp writes them. */
async function writeFlv(file: string, seconds: number) {
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-pix_fmt', 'yuv420p', '-f', 'flv', '-y', file]);
}

/** A file the worker cannot delete: immutable for root (who ignores permissions), a read-only directory otherwise. */
async function makeUndeletable(file: string): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) {
    await run('chattr', ['+i', file]);
    return async () => void (await run('chattr', ['-i', file]));
  }
  const dir = path.dirname(file);
  await run('chmod', ['a-w', dir]);
  return async () => void (await run('chmod', ['u+w', dir]));
}

describe('publish hook and account status', { timeout: 300_000 }, () => {
  it("refuses a deleted, a banned and a suspended creator's existing key; an active one goes live", async () => {
    const fan = await newUser(live.app);
    const creators: Record<'banned' | 'suspended' | 'deleted' | 'lapsed', TestUser> = {
      banned: await newUser(live.app),
      suspended: await newUser(live.app),
      deleted: await newUser(live.app),
      // Suspended until yesterday: active again.
      lapsed: await newUser(live.app),
    };
    const streams = {} as Record<keyof typeof creators, CreatedStream>;
    for (const [who, creator] of Object.entries(creators) as [keyof typeof creators, TestUser][]) {
      await call(live.app, 'POST', `/api/v1/users/${creator.id}/follow`, { headers: fan.auth });
      streams[who] = await createStream(live.app, creator);
    }
    // The keys were issued while the accounts were fine; then the accounts changed.
    await setStatus(t.ctx.db, creators.banned.id, 'banned');
    await setStatus(t.ctx.db, creators.suspended.id, 'suspended', new Date(Date.now() + 86_400_000));
    await t.ctx.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', creators.deleted.id).execute();
    await setStatus(t.ctx.db, creators.lapsed.id, 'suspended', new Date(Date.now() - 86_400_000));

    const refused = [streams.banned, streams.suspended, streams.deleted];
    await withWorkers(t.ctx, async () => {
      for (const stream of refused) {
        const encoder = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
        expect(await exitCode(encoder, 'a refused encoder')).not.toBe(0);
      }
      const accepted = publishTestPattern(live.nginx.rtmpUrl, streams.lapsed.streamKey);
      await waitForStatus(live.app, streams.lapsed.id, 'live');
      // The accepted broadcast's "is live" reaching the fan is the sentinel: had any refused
      // one started, its fan-out would have begun before this one.
      for (let i = 0; i < 300 && !(await notificationsOf(fan.id, 'stream_live')).length; i++) await sleep(100);
      expect((await call(live.app, 'POST', `/api/v1/streams/${streams.lapsed.id}/end`, { headers: creators.lapsed.auth })).status).toBe(202);
      expect(await exitCode(accepted, 'the encoder the end cuts off')).not.toBe(0);
      expect(await streamHandle(streams.lapsed.id).result()).toMatchObject({ status: 'ended', sessions: 1 });
    });

    expect((await notificationsOf(fan.id, 'stream_live')).map((n) => n.entity_id)).toEqual([streams.lapsed.id]);
    for (const stream of refused) {
      const sessions = await t.ctx.db.selectFrom('stream_sessions').select('id').where('stream_id', '=', stream.id).execute();
      expect(sessions).toEqual([]);
      expect(await signalsOf(stream.id)).toEqual([]);
      expect((await call(live.app, 'GET', `/api/v1/streams/${stream.id}`)).json.data.status).toBe('idle');
      await streamHandle(stream.id).terminate('test over');
    }
  });
});

describe('record-done and the recordings directory', { timeout: 300_000 }, () => {
  it('passes on only a recording of the stream inside the recordings directory, by name', async () => {
    const creator = await newUser(live.app);
    const stream = await createStream(live.app, creator);
    const other = await createStream(live.app, creator);
    const dir = live.nginx.recordingsDir;
    const forged = [
      '/etc/passwd',
      `${dir}/../${stream.id}-1764640000.flv`,
      `${scratch}/${stream.id}-1764640000.flv`,
      `${dir}/sub/${stream.id}-1764640000.flv`,
      `${dir}/${other.id}-1764640000.flv`,
      `${dir}/${stream.id}-1764640000.flv.txt`,
    ];
    for (const reported of forged) expect(await reportRecording(stream.id, reported), reported).toEqual({ status: 200, text: 'ignored' });
    // The genuine report is the sentinel: it lands after every forged one would have.
    expect(await reportRecording(stream.id, `${dir}/${stream.id}-1764640001.flv`)).toEqual({ status: 200, text: 'ok' });

    expect(await signalsOf(stream.id)).toEqual([{ name: 'recordingReady', args: [{ file: `${stream.id}-1764640001.flv` }] }]);
    await streamHandle(stream.id).terminate('test over');
    await streamHandle(other.id).terminate('test over');
  });

  it('stores only regular files of the stream from the recordings directory, and surfaces one it cannot delete', async () => {
    const creator = await newUser(live.app);
    const stream = await createStream(live.app, creator, { title: 'Recorded' });
    const other = await createStream(live.app, creator);
    const dir = live.nginx.recordingsDir;
    // Outside the recordings directory: must never be read, uploaded or deleted.
    const outside = path.join(scratch, 'outside.flv');
    await writeFlv(outside, 3);
    const outsideBytes = await readFile(outside);
    const real = `${stream.id}-1764640002.flv`;
    await writeFlv(path.join(dir, real), 2);
    const realSize = (await stat(path.join(dir, real))).size;
    const link = `${stream.id}-1764640001.flv`;
    await symlink(outside, path.join(dir, link));
    const othersRecording = `${other.id}-1764640003.flv`;
    await writeFlv(path.join(dir, othersRecording), 1);
    const restore = await makeUndeletable(path.join(dir, real));

    // The broadcast has just ended with these files named as its recordings (what a worker
    // would be handed after a mis-set directory or a tampered history): restart the
    // workflow at that point.
    await streamHandle(stream.id).terminate('restarted at the end of a broadcast');
    const input: StreamInput = {
      streamId: stream.id,
      ownerId: creator.id,
      title: 'Recorded',
      mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue,
      reconnectWindowSeconds: 60,
      carried: {
        state: { status: 'live', publishingSession: null, sessions: 1, recordings: [link, '../outside.flv', othersRecording, real], vodVideoId: null },
        progress: { title: 'Recorded', endRequested: true, waitingSince: 0, reminded: false, broadcastEndsAt: 0, reconnectUntil: null },
      },
    };
    await t.ctx.temporal.client.workflow.start<typeof streamWorkflow>('streamWorkflow', {
      workflowId: workflowIds.stream(stream.id),
      taskQueue: t.ctx.config.temporal.taskQueue,
      args: [input],
    });
    let metrics = '';
    try {
      await withWorkers(t.ctx, async () => {
        const result = await streamHandle(stream.id).result();
        expect(result).toMatchObject({ status: 'ended', recordings: [link, '../outside.flv', othersRecording, real] });
        const { video } = await settledVideo(live.app, creator, result.vodVideoId!);
        expect(video).toMatchObject({ status: 'ready', source: 'recording' });
        // The exporter lives as long as the workers.
        metrics = await (await fetch(metricsUrl)).text();
      });
    } finally {
      await restore();
    }

    // Only the real recording went to S3, as it was (one file: no join).
    expect((await headObject(t.ctx.storage, recordingPath(stream.id)))?.sizeBytes).toBe(realSize);
    expect(await readFile(outside)).toEqual(outsideBytes);
    expect((await lstat(path.join(dir, link))).isSymbolicLink()).toBe(true);
    expect((await stat(path.join(dir, othersRecording))).isFile()).toBe(true);
    // The upload worked but the delete did not: logged, counted, and in the activity's result.
    expect((await stat(path.join(dir, real))).size).toBe(realSize);
    expect(await storeRecordingResult(stream.id)).toEqual({ sourceKey: recordingPath(stream.id), leftOnDisk: [path.join(dir, real)] });
    expect(metrics).toContain(
      `streamhub_recording_cleanup_failures{activityType="storeRecording",namespace="${t.ctx.config.temporal.namespace}",taskQueue="${t.ctx.config.temporal.mediaTaskQueue}"} 1\n`,
    );
    await streamHandle(other.id).terminate('test over');
  });
});

async function storeRecordingResult(streamId: string) {
  const events = (await streamHandle(streamId).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'storeRecording');
  const completed = events.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled?.eventId));
  const payload = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}
