import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import type { ModerationConfig } from '../../lib/config.ts';
import { createSignalRelay, fileSignal } from '../../lib/moderation/signals.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { caseStateQuery } from '../../workflows/moderation.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, drained, insertStream, joinRoom, sendChat, startGateways } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Automatic signals (watched words), interim measures and age restriction, on the real stack:
// API, gateway, Postgres, NATS, Temporal with real workers, and the signal relay the API runs.

const t = useTestContext();
const LONG: ModerationConfig = {
  slaSeconds: { urgent: 3600, high: 3600, normal: 3600 },
  claimSeconds: 900,
  appealWindowSeconds: 180 * 86_400,
  strikeSeconds: 90 * 86_400,
  reportsPerHour: 1000,
  interimReporterMinAgeHours: 72,
};
let app: App;
let stopRelay: () => Promise<void>;

beforeAll(async () => {
  const config = { ...t.ctx.config, moderation: LONG, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 } };
  app = createApp({ ...t.ctx.apiDeps(), config });
  stopRelay = createSignalRelay({ db: t.ctx.db, nats: t.ctx.nats, client: t.ctx.temporal.client, taskQueue: config.temporal.taskQueue, config: LONG, logger: t.ctx.logger, pollMs: 1000 }).start();
});
afterAll(() => stopRelay?.());

async function staff(role: 'moderator' | 'admin' = 'moderator'): Promise<TestUser> {
  const user = await newUser(app);
  await setRole(t.ctx.db, user.id, role);
  return user;
}
const watch = async (admin: TestUser, body: Record<string, unknown>) => {
  const res = await call(app, 'PUT', '/api/v1/moderation/watched-words', { headers: admin.auth, body });
  expect(res.status, res.text).toBe(200);
  return res.json.data;
};
const caseOf = async (who: TestUser, caseId: string) => {
  const res = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: who.auth });
  expect(res.status, res.text).toBe(200);
  return res.json.data;
};
const caseState = (caseId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.moderation(caseId)).query(caseStateQuery);
/**
 * The interim measure as the workflow records it. It is recorded once its effect is applied, so
 * the effect shows (a video hidden) a moment before a query sees it: wait for the record, not the effect.
 */
const interimRecorded = (caseId: string) => waitUntil(async () => (await caseState(caseId).catch(() => undefined))?.interim ?? undefined, 'the interim measure recorded');
const handleOf = (caseId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.moderation(caseId));
const claimAndDecide = async (mod: TestUser, caseId: string, body: Record<string, unknown>) => {
  const claimed = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/claim`, { headers: mod.auth });
  expect(claimed.status, claimed.text).toBe(200);
  const decided = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/decision`, { headers: mod.auth, body });
  expect(decided.status, decided.text).toBe(200);
  return decided.json.data;
};
/** The statement of reasons goes out once a decision is carried out (any interim measure ended): then it may be appealed. */
const carriedOut = (owner: TestUser, caseId: string) =>
  waitUntil(() => t.ctx.db.selectFrom('notifications').select('id').where('recipient_id', '=', owner.id).where('type', '=', 'moderation_decision').where('entity_id', '=', caseId).executeTakeFirst(), 'the decision carried out');
/** Makes an account `hours` old (MODERATION_INTERIM_REPORTER_MIN_AGE_HOURS is 72 here). */
const ageAccount = (user: TestUser, hours: number) =>
  t.ctx.db.updateTable('users').set({ created_at: new Date(Date.now() - hours * 3_600_000) }).where('id', '=', user.id).execute();
const auditActions = async (caseId: string) => (await t.ctx.db.selectFrom('moderation_audit').select('action').where('case_id', '=', caseId).orderBy('id').execute()).map((r) => r.action);
const newVideo = async (ownerId: string) =>
  (
    await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: ownerId, title: 'Clip', source: 'upload', source_key: 'uploads/x', status: 'ready', visibility: 'public', moderation_hidden_at: null, source_size_bytes: null, failure_reason: null, duration_seconds: 5, width: 320, height: 240, master_playlist_key: 'v/master.m3u8', poster_key: null, storyboard_key: null, idempotency_key: null, ready_at: new Date(), deleted_at: null })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

describe('watched words as automatic signals', { timeout: 300_000 }, () => {
  it('holds a chat message: not delivered, the sender told why, a case opened with the text as evidence; benign text passes', async () => {
    const admin = await staff('admin');
    const mod = await staff();
    const creator = await newUser(app);
    const sender = await newUser(app);
    const watcher = await newUser(app);
    expect(await watch(admin, { term: 'ass', level: 'hold', reason: 'harassment', score: 60 })).toMatchObject({ term: 'ass', level: 'hold', reason: 'harassment', score: 60 });
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const { gateways, urls } = await startGateways(t.ctx, 1);
    try {
      await withWorkers(t.ctx, async () => {
        const socket = await connectSocket(urls[0]!, `?token=${sender.accessToken}`);
        const witness = await connectSocket(urls[0]!, `?token=${watcher.accessToken}`);
        await joinRoom(socket, streamId);
        await joinRoom(witness, streamId);

        const held = await sendChat(socket, streamId, 'you ass');
        expect(held).toMatchObject({ type: 'error', code: 'message_held' });
        // Words that merely contain the term go through.
        const benign = await sendChat(socket, streamId, 'a classic pass, assassin level');
        expect(benign).toMatchObject({ type: 'chat', text: 'a classic pass, assassin level' });
        await waitUntil(() => witness.frames.some((f) => f.type === 'chat' && f.text === 'a classic pass, assassin level'), 'the benign message delivered');
        await drained(witness);
        expect(witness.frames.filter((f) => f.type === 'chat').map((f) => f.text)).toEqual(['a classic pass, assassin level']);

        const row = await t.ctx.db.selectFrom('moderation_cases').select(['id', 'target_id', 'target_owner_id']).where('target_type', '=', 'chat_message').where('target_owner_id', '=', sender.id).executeTakeFirstOrThrow();
        expect(row.target_id).toMatch(new RegExp(`^${streamId}\\.h\\d+$`));
        const detail = await caseOf(mod, row.id);
        expect(detail.snapshot).toMatchObject({ text: 'you ass', held: true, userId: sender.id, username: sender.username, streamId, term: 'ass' });
        expect(detail.signals).toEqual([expect.objectContaining({ source: 'watched_words:chat', reason: 'harassment', score: 60 })]);
        // The workflow has it: the chat of a live stream is urgent.
        const state = await waitUntil(async () => {
          const s = await caseState(row.id).catch(() => undefined);
          return s?.signals === 1 && s;
        }, 'the signal in the case workflow');
        expect(state).toMatchObject({ reports: 0, priority: 'urgent', signalScores: { harassment: 60 } });
        expect((await caseOf(mod, row.id)).signals[0].delivered).toBe(true);
        // A held message has nothing to delete: removing it changes nothing in the room.
        expect((await claimAndDecide(mod, row.id, { action: 'remove_content', rule: 'harassment' })).effects).toEqual([]);
        await handleOf(row.id).terminate('test over');
        socket.socket.close();
        witness.socket.close();
      });
    } finally {
      for (const g of gateways) await g.close();
    }
  });

  it('answers a held message retried with the same nonce as held again, without a second held message or case, even when retried at once on two sockets', async () => {
    const admin = await staff('admin');
    const creator = await newUser(app);
    const sender = await newUser(app);
    await watch(admin, { term: 'dolt', level: 'hold', reason: 'harassment', score: 60 });
    const streamId = await insertStream(t.ctx, creator.id, 'live');
    const { gateways, urls } = await startGateways(t.ctx, 1);
    const casesOfSender = () =>
      t.ctx.db.selectFrom('moderation_cases').select(['id', 'target_id', 'signal_count']).where('target_type', '=', 'chat_message').where('target_owner_id', '=', sender.id).orderBy('target_id').execute();
    try {
      const [one, two] = [await connectSocket(urls[0]!, `?token=${sender.accessToken}`), await connectSocket(urls[0]!, `?token=${sender.accessToken}`)];
      await joinRoom(one, streamId);
      await joinRoom(two, streamId);
      expect(await sendChat(one, streamId, 'you dolt', 'nonce-1')).toMatchObject({ type: 'error', code: 'message_held', nonce: 'nonce-1' });
      const first = await casesOfSender();
      expect(first).toHaveLength(1);

      // The same nonce again; then a fresh nonce twice at once on two sockets: neither finds it
      // remembered in the gateway's bucket, and the database claim lets only one file a case.
      expect(await sendChat(one, streamId, 'you dolt', 'nonce-1')).toMatchObject({ type: 'error', code: 'message_held', nonce: 'nonce-1' });
      const raced = await Promise.all([sendChat(one, streamId, 'you dolt!', 'nonce-2'), sendChat(two, streamId, 'you dolt!', 'nonce-2')]);
      expect(raced.map((f) => f.code)).toEqual(['message_held', 'message_held']);
      // A new nonce is a new message: its own held message and case.
      expect(await sendChat(two, streamId, 'you dolt', 'nonce-3')).toMatchObject({ code: 'message_held' });

      const cases = await casesOfSender();
      expect(cases).toHaveLength(3);
      expect(cases.map((c) => c.signal_count)).toEqual([1, 1, 1]);
      expect(cases.find((c) => c.id === first[0]!.id)).toEqual(first[0]);
      const signals = await t.ctx.db.selectFrom('moderation_signals').select('case_id').where('case_id', 'in', cases.map((c) => c.id)).execute();
      expect(signals).toHaveLength(3);
      const nonces = await t.ctx.db.selectFrom('held_chat_nonces').select('held_id').where('user_id', '=', sender.id).orderBy('held_id').execute();
      expect(nonces.map((n) => `${streamId}.h${n.held_id}`).sort()).toEqual(cases.map((c) => c.target_id).sort());
      for (const c of cases) await handleOf(c.id).terminate('test over').catch(() => undefined);
      one.socket.close();
      two.socket.close();
    } finally {
      for (const g of gateways) await g.close();
    }
  });

  it('accepts a title or description with a hold word and opens a case about the video or stream; a block word is still refused', async () => {
    const admin = await staff('admin');
    const mod = await staff();
    const creator = await newUser(app);
    await watch(admin, { term: 'scam', level: 'hold', reason: 'spam', score: 40 });
    await watch(admin, { term: 'free coins', level: 'block' });
    await withWorkers(t.ctx, async () => {
      const video = await call(app, 'POST', '/api/v1/videos', { headers: creator.auth, body: { title: 'Is this a scam?', description: 'my review' } });
      expect(video.status, video.text).toBe(201);
      const videoCase = `video-${video.json.data.video.id}-1`;
      const detail = await caseOf(mod, videoCase);
      expect(detail).toMatchObject({ targetType: 'video', targetOwnerId: creator.id, snapshot: { title: 'Is this a scam?' } });
      expect(detail.signals).toEqual([expect.objectContaining({ source: 'watched_words:title', reason: 'spam', score: 40, detail: { field: 'title', term: 'scam' } })]);
      await waitUntil(async () => (await caseState(videoCase).catch(() => undefined))?.signals === 1, 'the video case workflow');
      expect((await caseState(videoCase)).priority).toBe('normal');

      const stream = await call(app, 'POST', '/api/v1/streams', { headers: creator.auth, body: { title: 'Chill stream', description: 'no scam here' } });
      expect(stream.status, stream.text).toBe(201);
      const streamCase = `stream-${stream.json.data.id}-1`;
      expect((await caseOf(mod, streamCase)).signals).toEqual([expect.objectContaining({ source: 'watched_words:description' })]);
      // An update holding the word signals the same open case again.
      const patched = await call(app, 'PATCH', `/api/v1/streams/${stream.json.data.id}`, { headers: creator.auth, body: { title: 'Scam alert' } });
      expect(patched.status, patched.text).toBe(200);
      await waitUntil(async () => (await caseState(streamCase).catch(() => undefined))?.signals === 2, 'both stream signals in one case');

      const refused = await call(app, 'POST', '/api/v1/videos', { headers: creator.auth, body: { title: 'FREE COINS' } });
      expect(refused.status).toBe(400);
      expect(refused.json.error.details[0]).toMatchObject({ field: 'title', reason: 'watched_word_blocked' });
      const benign = await call(app, 'POST', '/api/v1/videos', { headers: creator.auth, body: { title: 'Scampi recipes' } });
      expect(benign.status).toBe(201);
      expect(await t.ctx.db.selectFrom('moderation_cases').select('id').where('target_id', '=', benign.json.data.video.id).execute()).toEqual([]);
      for (const id of [videoCase, streamCase]) await handleOf(id).terminate('test over');
    });
  });

  it('keeps a signal while Temporal cannot take it, and delivers it once it can', async () => {
    const owner = await newUser(app);
    const videoId = await newVideo(owner.id);
    // The running relay is stopped before the signal is filed: its next poll could deliver the row
    // first (one whole-suite run saw it), and this test is about a relay that cannot.
    await stopRelay();
    const { caseId } = await fileSignal(t.ctx.db, { targetType: 'video', targetId: videoId, targetOwnerId: owner.id, liveTarget: false, source: 'watched_words:title', reason: 'other', score: 10, detail: {}, snapshot: {} });
    // A relay whose Temporal is unreachable takes the row; it is delivered when a relay's Temporal answers.
    // No gRPC retries: the failure comes at once instead of after the client's backoff.
    const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] }), namespace: t.ctx.config.temporal.namespace });
    const down = createSignalRelay({ db: t.ctx.db, nats: t.ctx.nats, client: unreachable, taskQueue: t.ctx.config.temporal.taskQueue, config: LONG, logger: t.ctx.logger });
    expect(await down.drain()).toBe(0);
    await unreachable.connection.close();
    const pending = await t.ctx.db.selectFrom('moderation_signals').select(['delivered_at', 'claimed_until']).where('case_id', '=', caseId).executeTakeFirstOrThrow();
    expect(pending.delivered_at).toBeNull();
    // Released at once, not left to its claim running out: the next round takes it.
    expect(pending.claimed_until).toBeNull();
    stopRelay = createSignalRelay({ db: t.ctx.db, nats: t.ctx.nats, client: t.ctx.temporal.client, taskQueue: t.ctx.config.temporal.taskQueue, config: LONG, logger: t.ctx.logger, pollMs: 1000 }).start();
    await withWorkers(t.ctx, async () => {
      await waitUntil(async () => (await caseState(caseId).catch(() => undefined))?.signals === 1, 'the signal delivered once Temporal answers');
      await handleOf(caseId).terminate('test over');
    });
  });
  it('leaves a signal claimed by another relay alone until the claim runs out, then delivers it', async () => {
    const owner = await newUser(app);
    const videoId = await newVideo(owner.id);
    await stopRelay();
    try {
      const { caseId } = await fileSignal(t.ctx.db, { targetType: 'video', targetId: videoId, targetOwnerId: owner.id, liveTarget: false, source: 'watched_words:title', reason: 'other', score: 10, detail: {}, snapshot: {} });
      const signalRow = () => t.ctx.db.selectFrom('moderation_signals').select(['delivered_at', 'claimed_until']).where('case_id', '=', caseId).executeTakeFirstOrThrow();
      // A relay that claimed the row and died mid-batch.
      await t.ctx.db.updateTable('moderation_signals').set({ claimed_until: sql<Date>`now() + interval '1 hour'` }).where('case_id', '=', caseId).execute();
      const relay = createSignalRelay({ db: t.ctx.db, nats: t.ctx.nats, client: t.ctx.temporal.client, taskQueue: t.ctx.config.temporal.taskQueue, config: LONG, logger: t.ctx.logger });
      await relay.drain();
      expect((await signalRow()).delivered_at).toBeNull();
      await t.ctx.db.updateTable('moderation_signals').set({ claimed_until: sql<Date>`now() - interval '1 second'` }).where('case_id', '=', caseId).execute();
      await relay.drain();
      const delivered = await signalRow();
      expect(delivered.delivered_at).not.toBeNull();
      expect(delivered.claimed_until).toBeNull();
      await withWorkers(t.ctx, async () => {
        await waitUntil(async () => (await caseState(caseId).catch(() => undefined))?.signals === 1, 'the signal delivered once its claim ran out');
        await handleOf(caseId).terminate('test over');
      });
    } finally {
      stopRelay = createSignalRelay({ db: t.ctx.db, nats: t.ctx.nats, client: t.ctx.temporal.client, taskQueue: t.ctx.config.temporal.taskQueue, config: LONG, logger: t.ctx.logger, pollMs: 1000 }).start();
    }
  });
});

describe('interim measures', { timeout: 300_000 }, () => {
  it('hides a video on a child-safety report pending review; a dismissal restores it; a removal keeps it hidden and its appeal restores it', async () => {
    const [first, second] = [await staff(), await staff()];
    const owner = await newUser(app);
    const reporter = await newUser(app);
    await ageAccount(reporter, 73);
    const dismissedVideo = await newVideo(owner.id);
    const removedVideo = await newVideo(owner.id);
    const visible = async (id: string) => (await call(app, 'GET', `/api/v1/videos/${id}`)).status === 200;
    await withWorkers(t.ctx, async () => {
      const report = async (videoId: string) => {
        const res = await call(app, 'POST', '/api/v1/reports', { headers: reporter.auth, body: { targetType: 'video', targetId: videoId, reason: 'minor_safety' } });
        expect(res.status, res.text).toBe(201);
        return res.json.data.caseId as string;
      };
      const dismissed = await report(dismissedVideo);
      expect(await interimRecorded(dismissed)).toEqual([{ kind: 'hide_video', videoId: dismissedVideo }]);
      expect(await visible(dismissedVideo)).toBe(false);
      await claimAndDecide(first, dismissed, { action: 'dismiss', rule: 'minor_safety', note: 'a cartoon' });
      await handleOf(dismissed).result();
      expect(await visible(dismissedVideo)).toBe(true);
      expect((await t.ctx.db.selectFrom('videos').select('moderation_hidden_at').where('id', '=', dismissedVideo).executeTakeFirstOrThrow()).moderation_hidden_at).toBeNull();
      expect(await auditActions(dismissed)).toEqual(['interim:hide_video', 'claimed', 'decided', 'interim_lifted:hide_video', 'closed']);

      const removed = await report(removedVideo);
      await waitUntil(async () => !(await visible(removedVideo)), 'the interim hide');
      await claimAndDecide(first, removed, { action: 'remove_content', rule: 'minor_safety' });
      await carriedOut(owner, removed);
      expect(await visible(removedVideo)).toBe(false);
      const appeal = await call(app, 'POST', `/api/v1/moderation/cases/${removed}/appeal`, { headers: owner.auth, body: { message: 'nothing wrong in it' } });
      expect(appeal.status, appeal.text).toBe(202);
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${removed}/appeal/decision`, { headers: second.auth, body: { upheld: true } })).status).toBe(200);
      await handleOf(removed).result();
      expect(await visible(removedVideo)).toBe(true);
      expect(await auditActions(removed)).toEqual(['interim:hide_video', 'claimed', 'decided', 'effect:hide_video', 'interim_superseded:hide_video', 'appealed', 'appeal_upheld', 'reversed:hide_video', 'closed']);
    });
  });
});

describe('who may trigger an interim measure alone', { timeout: 300_000 }, () => {
  it('takes one child-safety report from an account 72 h old in good standing, not from a younger one or one with an active strike', async () => {
    const owner = await newUser(app);
    const [fresh, young, struck, trusted] = [await newUser(app), await newUser(app), await newUser(app), await newUser(app)];
    await ageAccount(young, 71);
    await ageAccount(struck, 24 * 365);
    await ageAccount(trusted, 73);
    // An active strike (its case opened by someone's report about the account).
    const strikeCase = await call(app, 'POST', '/api/v1/reports', { headers: fresh.auth, body: { targetType: 'user', targetId: struck.id, reason: 'spam' } });
    expect(strikeCase.status, strikeCase.text).toBe(201);
    await t.ctx.db.insertInto('strikes').values({ user_id: struck.id, case_id: strikeCase.json.data.caseId, rule: 'spam', expires_at: new Date(Date.now() + 86_400_000) }).execute();
    const [videoA, videoB] = [await newVideo(owner.id), await newVideo(owner.id)];
    const visible = async (id: string) => (await call(app, 'GET', `/api/v1/videos/${id}`)).status === 200;
    const report = async (who: TestUser, videoId: string) => {
      const res = await call(app, 'POST', '/api/v1/reports', { headers: who.auth, body: { targetType: 'video', targetId: videoId, reason: 'minor_safety' } });
      expect(res.status, res.text).toBe(201);
      return res.json.data.caseId as string;
    };
    const settled = (caseId: string, reports: number) =>
      waitUntil(async () => {
        const s = await caseState(caseId).catch(() => undefined);
        return s?.reports === reports && s;
      }, `${reports} reports in the workflow`);

    await withWorkers(t.ctx, async () => {
      // Two untrusted reporters: urgent, but the video stays up for a moderator to judge.
      const caseA = await report(fresh, videoA);
      await report(young, videoA);
      const stateA = await settled(caseA, 2);
      expect([stateA.priority, stateA.interim ?? null]).toEqual(['urgent', null]);
      const caseB = await report(struck, videoB);
      const stateB = await settled(caseB, 1);
      expect([stateB.priority, stateB.interim ?? null]).toEqual(['urgent', null]);
      expect([await visible(videoA), await visible(videoB)]).toEqual([true, true]);
      // A trusted reporter's one report hides it pending review (two reporters are not three).
      await report(trusted, videoB);
      expect(await interimRecorded(caseB)).toEqual([{ kind: 'hide_video', videoId: videoB }]);
      expect(await visible(videoB)).toBe(false);
      expect(await visible(videoA)).toBe(true);
      for (const id of [caseA, caseB, strikeCase.json.data.caseId]) await handleOf(id).terminate('test over');
    });
  });
});

describe('interim measures on a live stream', { timeout: 300_000 }, () => {
  it('age-restricts it (never ends it) once three viewers report violence; a dismissal clears it', async () => {
    const mod = await staff();
    const owner = await newUser(app);
    const reporters = [await newUser(app), await newUser(app), await newUser(app)];
    const streamId = await insertStream(t.ctx, owner.id, 'live');
    const stream = async () => (await call(app, 'GET', `/api/v1/streams/${streamId}`)).json.data;
    await withWorkers(t.ctx, async () => {
      const report = (who: TestUser) => call(app, 'POST', '/api/v1/reports', { headers: who.auth, body: { targetType: 'stream', targetId: streamId, reason: 'violence' } });
      const caseId = (await report(reporters[0]!)).json.data.caseId as string;
      // One reporter, even twice, is not enough.
      await report(reporters[0]!);
      await report(reporters[1]!);
      // A repeat by the same reporter counts once: two reporters so far.
      await waitUntil(async () => (await caseState(caseId)).reports === 2, 'two reporters counted');
      expect((await stream()).ageRestricted).toBe(false);
      await report(reporters[2]!);
      await waitUntil(async () => (await stream()).ageRestricted === true, 'the interim age restriction');
      expect(await stream()).toMatchObject({ status: 'live', playbackUrl: null });
      await claimAndDecide(mod, caseId, { action: 'dismiss', rule: 'violence' });
      await handleOf(caseId).result();
      expect(await stream()).toMatchObject({ ageRestricted: false, status: 'live', playbackUrl: expect.stringMatching(/\.m3u8$/) });
      expect(await auditActions(caseId)).toEqual(['interim:age_restrict', 'claimed', 'decided', 'interim_lifted:age_restrict', 'closed']);
    });
  });
});

describe('age restriction', { timeout: 300_000 }, () => {
  it('flags a video: anonymous viewers get no playback, signed-in viewers do; an upheld appeal clears the flag', async () => {
    const [first, second] = [await staff(), await staff()];
    const owner = await newUser(app);
    const reporter = await newUser(app);
    const videoId = await newVideo(owner.id);
    await withWorkers(t.ctx, async () => {
      const filed = await call(app, 'POST', '/api/v1/reports', { headers: reporter.auth, body: { targetType: 'video', targetId: videoId, reason: 'sexual' } });
      const caseId = filed.json.data.caseId as string;
      expect((await claimAndDecide(first, caseId, { action: 'age_restrict', rule: 'sexual' })).effects).toEqual([{ kind: 'age_restrict', targetType: 'video', targetId: videoId }]);
      const anonymous = await waitUntil(async () => {
        const res = await call(app, 'GET', `/api/v1/videos/${videoId}`);
        return res.json.data.ageRestricted === true && res.json.data;
      }, 'the age restriction');
      expect(anonymous).toMatchObject({ playbackUrl: null, storyboardUrl: null });
      const playlist = await call(app, 'GET', `/api/v1/videos/${videoId}/hls/master.m3u8`);
      expect(playlist.status).toBe(403);
      expect(playlist.json.error.details).toMatchObject({ reason: 'age_restricted' });
      const signedIn = (await call(app, 'GET', `/api/v1/videos/${videoId}`, { headers: reporter.auth })).json.data;
      expect(signedIn).toMatchObject({ ageRestricted: true, playbackUrl: expect.stringMatching(/master\.m3u8\?token=/) });

      await carriedOut(owner, caseId);
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: owner.auth, body: { message: 'it is art' } })).status).toBe(202);
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: second.auth, body: { upheld: true } })).status).toBe(200);
      await handleOf(caseId).result();
      const restored = (await call(app, 'GET', `/api/v1/videos/${videoId}`)).json.data;
      expect(restored).toMatchObject({ ageRestricted: false, playbackUrl: expect.stringMatching(/master\.m3u8$/) });
      expect(await auditActions(caseId)).toEqual(['claimed', 'decided', 'effect:age_restrict', 'appealed', 'appeal_upheld', 'reversed:age_restrict', 'closed']);
    });
  });

  it('flags a live stream: anonymous viewers get no playback URL; not for chat messages or accounts', async () => {
    const mod = await staff();
    const owner = await newUser(app);
    const reporter = await newUser(app);
    const streamId = await insertStream(t.ctx, owner.id, 'live');
    await withWorkers(t.ctx, async () => {
      const caseId = (await call(app, 'POST', '/api/v1/reports', { headers: reporter.auth, body: { targetType: 'stream', targetId: streamId, reason: 'sexual' } })).json.data.caseId as string;
      expect((await call(app, 'GET', `/api/v1/streams/${streamId}`)).json.data.playbackUrl).not.toBeNull();
      await claimAndDecide(mod, caseId, { action: 'age_restrict', rule: 'sexual' });
      await waitUntil(async () => (await call(app, 'GET', `/api/v1/streams/${streamId}`)).json.data.ageRestricted === true, 'the stream age-restricted');
      expect((await call(app, 'GET', `/api/v1/streams/${streamId}`)).json.data.playbackUrl).toBeNull();
      // Signed-in viewers get the live playback token nginx asks for (live-hls-access.test.ts).
      expect((await call(app, 'GET', `/api/v1/streams/${streamId}`, { headers: reporter.auth })).json.data.playbackUrl).toMatch(/\.m3u8\?token=\d+\.[\w-]{43}$/);
      const listed = (await call(app, 'GET', '/api/v1/streams?status=live')).json.data.find((s: { id: string }) => s.id === streamId);
      expect(listed).toMatchObject({ ageRestricted: true, playbackUrl: null });

      const userCase = (await call(app, 'POST', '/api/v1/reports', { headers: reporter.auth, body: { targetType: 'user', targetId: owner.id, reason: 'sexual' } })).json.data.caseId as string;
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${userCase}/claim`, { headers: mod.auth })).status).toBe(200);
      const refused = await call(app, 'POST', `/api/v1/moderation/cases/${userCase}/decision`, { headers: mod.auth, body: { action: 'age_restrict', rule: 'sexual' } });
      expect(refused.status).toBe(400);
      for (const id of [caseId, userCase]) await handleOf(id).terminate('test over');
    });
  });
});
