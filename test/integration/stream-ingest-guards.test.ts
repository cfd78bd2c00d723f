import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setStatus, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { createStream, type CreatedStream, exitCode, startLiveStack, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { withWorkers } from '../support/workers.ts';

// What nginx-rtmp's hooks may no longer be talked into: a broadcast by an account that may
// not act, and reading (then deleting) a file outside the recordings directory. Real
// nginx-rtmp, FFmpeg, API, Temporal workers, Postgres and S3.

const t = useTestContext();
let live: LiveStack;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'stream-guards-'));

beforeAll(async () => {
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
});
