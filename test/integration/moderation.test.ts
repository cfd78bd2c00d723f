import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { publishChatEvent, readChatEvent } from '../../lib/chat.ts';
import type { ModerationConfig } from '../../lib/config.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { caseStateQuery, reportSignal, type moderationCaseWorkflow } from '../../workflows/moderation.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, startGateways } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { createStream, exitCode, ingestSnapshot, startLiveStack, waitForStatus, type LiveStack } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { waitUntil } from '../support/wait.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Moderation review end to end: real API, Temporal workers, Postgres, NATS, nginx-rtmp and
// FFmpeg. Durations are shortened through the config each app passes into the workflows.

const t = useTestContext();
let live: LiveStack;

const LONG: ModerationConfig = {
  slaSeconds: { urgent: 3600, high: 3600, normal: 3600 },
  claimSeconds: 900,
  appealWindowSeconds: 180 * 86_400,
  strikeSeconds: 90 * 86_400,
  reportsPerHour: 1000,
  interimReporterMinAgeHours: 72,
};

beforeAll(async () => {
  t.ctx.config.moderation = LONG;
  live = await startLiveStack(t.ctx);
}, 120_000);
afterAll(() => live?.close());

/** An app over this file's context with other moderation timings. */
const appWith = (moderation: Partial<ModerationConfig>): App =>
  createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000 }, moderation: { ...LONG, ...moderation } } });

async function moderator(app: App, role: 'moderator' | 'admin' = 'moderator'): Promise<TestUser> {
  const user = await newUser(app);
  await setRole(t.ctx.db, user.id, role);
  return user;
}

const report = (app: App, who: TestUser, body: Record<string, unknown>) => call(app, 'POST', '/api/v1/reports', { headers: who.auth, body });
const claim = (app: App, who: TestUser, caseId: string) => call(app, 'POST', `/api/v1/moderation/cases/${caseId}/claim`, { headers: who.auth });
const decide = (app: App, who: TestUser, caseId: string, body: Record<string, unknown>) => call(app, 'POST', `/api/v1/moderation/cases/${caseId}/decision`, { headers: who.auth, body });
const caseOf = async (app: App, who: TestUser, caseId: string) => {
  const res = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: who.auth });
  expect(res.status, res.text).toBe(200);
  return res.json.data;
};
const userStatus = async (id: string) => (await t.ctx.db.selectFrom('users').select(['status', 'suspended_until']).where('id', '=', id).executeTakeFirstOrThrow()).status;
const notificationsOf = (userId: string, type: string) =>
  t.ctx.db.selectFrom('notifications').select(['entity_id', 'payload']).where('recipient_id', '=', userId).where('type', '=', type as never).execute();
const auditOf = (caseId: string) => t.ctx.db.selectFrom('moderation_audit').select(['action', 'idempotency_key', 'actor_id', 'prior']).where('case_id', '=', caseId).orderBy('id').execute();
const handleOf = (caseId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.moderation(caseId));
/** Where a ban's enforcement stands: the case's effects so far, its pending activities, and the stream's publish. */
const banSnapshot = async (caseId: string, streamId: string) => {
  const pending = (await handleOf(caseId).describe()).raw.pendingActivities ?? [];
  const activities = pending.map((a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.message ?? 'no failure'}`);
  return `case audit: ${(await auditOf(caseId)).map((r) => r.action).join(', ')}\npending activities: ${activities.join('; ') || 'none'}\n${await ingestSnapshot(t.ctx, live.nginx.controlUrl, streamId)}`;
};

describe('intake', { timeout: 300_000 }, () => {
  it('merges concurrent reports on one target into one case; refuses self-reports; a repeat is the same report', async () => {
    const { app } = live;
    const target = await newUser(app);
    const reporters = await Promise.all(Array.from({ length: 12 }, () => newUser(app)));
    await withWorkers(t.ctx, async () => {
      const answers = await Promise.all(reporters.map((r, i) => report(app, r, { targetType: 'user', targetId: target.id, reason: i % 2 ? 'spam' : 'harassment' })));
      for (const a of answers) expect(a.status, a.text).toBe(201);
      const caseIds = new Set(answers.map((a) => a.json.data.caseId));
      expect([...caseIds]).toEqual([`user-${target.id}-1`]);
      const caseId = [...caseIds][0]!;

      const again = await report(app, reporters[0]!, { targetType: 'user', targetId: target.id, reason: 'spam' });
      expect(again.json.data).toMatchObject({ caseId, duplicate: true, reportId: answers[0]!.json.data.reportId });
      const self = await report(app, target, { targetType: 'user', targetId: target.id, reason: 'spam' });
      expect(self.status).toBe(403);
      expect((await report(app, reporters[0]!, { targetType: 'video', targetId: target.id, reason: 'nope' })).status).toBe(400);
      expect((await report(app, reporters[0]!, { targetType: 'video', targetId: target.id, reason: 'spam' })).status).toBe(404);

      const state = await waitUntil(async () => {
        const s = await handleOf(caseId).query(caseStateQuery);
        return s.reports === 12 && s;
      }, 'every report signal in the case');
      expect(state.phase).toBe('open');
      const mod = await moderator(app);
      const detail = await caseOf(app, mod, caseId);
      expect(detail).toMatchObject({ reportCount: 12, status: 'open', targetOwnerId: target.id, snapshot: { username: target.username } });
      expect(detail.reports).toHaveLength(12);
      const description = await handleOf(caseId).describe();
      expect(description.typedSearchAttributes.get(searchAttributes.TargetId)).toBe(`user:${target.id}`);
      await handleOf(caseId).terminate('test over');
    });
  });
});

describe('review', { timeout: 300_000 }, () => {
  it('one reviewer at a time; never on their own report or content; a dismissal tells the reporters, and the next report opens case 2', async () => {
    const { app } = live;
    const target = await newUser(app);
    const reporter = await newUser(app);
    const reportingModerator = await moderator(app);
    const [a, b] = [await moderator(app), await moderator(app)];
    await withWorkers(t.ctx, async () => {
      const first = await report(app, reporter, { targetType: 'user', targetId: target.id, reason: 'spam', details: 'bot' });
      const caseId = first.json.data.caseId as string;
      expect((await report(app, reportingModerator, { targetType: 'user', targetId: target.id, reason: 'spam' })).json.data.caseId).toBe(caseId);

      const own = await claim(app, reportingModerator, caseId);
      expect(own.status).toBe(403);
      expect(own.json.error.message).toContain('own_report');
      await setRole(t.ctx.db, target.id, 'moderator');
      const self = await claim(app, target, caseId);
      expect(self.status).toBe(403);
      expect(self.json.error.message).toContain('own_content');
      await setRole(t.ctx.db, target.id, 'viewer');
      expect((await claim(app, reporter, caseId)).status).toBe(403);

      expect((await decide(app, a, caseId, { action: 'dismiss', rule: 'spam' })).status).toBe(409);
      expect((await claim(app, a, caseId)).status).toBe(200);
      const taken = await claim(app, b, caseId);
      expect(taken.status).toBe(409);
      expect(taken.json.error.details.reason).toBe('ClaimedByOther');
      expect((await decide(app, b, caseId, { action: 'dismiss', rule: 'spam' })).status).toBe(409);
      expect((await decide(app, a, caseId, { action: 'suspend', rule: 'spam' })).status).toBe(400);
      const decided = await decide(app, a, caseId, { action: 'dismiss', rule: 'spam', note: 'not spam' });
      expect(decided.status, decided.text).toBe(200);

      await waitUntil(async () => (await caseOf(app, a, caseId)).status === 'closed', 'the dismissed case closed');
      for (const who of [reporter, reportingModerator]) {
        expect((await notificationsOf(who.id, 'report_outcome')).map((n) => n.payload)).toEqual([expect.objectContaining({ caseId, outcome: 'no_action' })]);
      }
      expect(await notificationsOf(target.id, 'moderation_decision')).toEqual([]);
      expect((await auditOf(caseId)).map((r) => r.action)).toEqual(['claimed', 'decided', 'closed']);
      // The log is append-only.
      await expect(t.ctx.db.deleteFrom('moderation_audit').where('case_id', '=', caseId).execute()).rejects.toThrow(/append-only/);

      const next = await report(app, reporter, { targetType: 'user', targetId: target.id, reason: 'harassment' });
      expect(next.json.data.caseId).toBe(`user-${target.id}-2`);
      await handleOf(next.json.data.caseId).terminate('test over');
    });
  });
});

describe('a ban mid-broadcast, then an appeal', { timeout: 300_000 }, () => {
  it('ends the live RTMP publish, refuses the next one and the tokens; a different moderator upholds the appeal and every effect is reversed', async () => {
    const { app } = live;
    const creator = await newUser(app);
    const viewer = await newUser(app);
    const [first, second] = [await moderator(app), await moderator(app)];
    const stream = await createStream(app, creator);
    const spare = await createStream(app, creator);
    // Session checks off: only the sign-out the ban publishes can end the socket's session.
    const { gateways, urls } = await startGateways(t.ctx, 1, { limits: { sessionCheckMs: 3_600_000 } });
    await withWorkers(t.ctx, async () => {
      const encoder = publishTestPattern(live.nginx.rtmpUrl, stream.streamKey);
      await waitForStatus(app, stream.id, 'live');
      const socket = await connectSocket(urls[0]!, `?token=${creator.accessToken}`);
      socket.send({ type: 'join', streamId: stream.id });
      await waitUntil(() => socket.frames.some((f) => f.type === 'joined'), 'the creator in their chat');

      const filed = await report(app, viewer, { targetType: 'stream', targetId: stream.id, reason: 'violence' });
      expect(filed.status, filed.text).toBe(201);
      const caseId = filed.json.data.caseId as string;
      expect((await caseOf(app, first, caseId)).priority).toBe('urgent');
      const queue = await call(app, 'GET', '/api/v1/moderation/cases?priority=urgent', { headers: first.auth });
      expect(queue.json.data.map((c: { id: string }) => c.id)).toContain(caseId);
      expect((await call(app, 'GET', '/api/v1/moderation/cases', { headers: viewer.auth })).status).toBe(403);

      expect((await claim(app, first, caseId)).status).toBe(200);
      const banned = await decide(app, first, caseId, { action: 'ban', rule: 'violence', note: 'graphic violence on stream' });
      expect(banned.status, banned.text).toBe(200);

      // The encoder is cut, the stream ends, the account's token stops working, a new publish is refused.
      expect(await exitCode(encoder, 'the encoder the ban cuts off', () => banSnapshot(caseId, stream.id))).not.toBe(0);
      await waitForStatus(app, stream.id, 'ended');
      expect(await userStatus(creator.id)).toBe('banned');
      const me = await call(app, 'GET', '/api/v1/wallet', { headers: creator.auth });
      expect(me.status).toBe(403);
      expect(me.json.error.code).toBe('account_banned');
      const refused = publishTestPattern(live.nginx.rtmpUrl, spare.streamKey);
      expect(await exitCode(refused, 'a banned creator publishing again')).not.toBe(0);
      const signedOut = await waitUntil(() => socket.frames.find((f) => f.type === 'signed_out'), 'the socket signed out');
      expect(signedOut.reason).toBe('account_banned');
      socket.send({ type: 'chat', streamId: stream.id, text: 'still here?', nonce: 'n1' });
      await waitUntil(() => socket.frames.some((f) => f.type === 'error'), 'the chat refused');
      expect(socket.frames.filter((f) => f.type === 'chat')).toEqual([]);
      socket.socket.close();

      await waitUntil(async () => (await notificationsOf(viewer.id, 'report_outcome')).length > 0, 'the reporter told');
      expect((await notificationsOf(viewer.id, 'report_outcome'))[0]!.payload).toMatchObject({ caseId, outcome: 'action_taken', action: 'ban' });
      const statement = await waitUntil(async () => (await notificationsOf(creator.id, 'moderation_decision'))[0], 'the statement of reasons');
      expect(statement.payload).toMatchObject({ caseId, action: 'ban', rule: 'violence', note: 'graphic violence on stream' });

      // The banned creator appeals with the session they hold; the moderator who banned may not rule on it.
      const appeal = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: creator.auth, body: { message: 'That was a film clip' } });
      expect(appeal.status, appeal.text).toBe(202);
      const sameReviewer = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: first.auth, body: { upheld: true } });
      expect(sameReviewer.status).toBe(403);
      expect(sameReviewer.json.error.message).toContain('original_reviewer');
      const upheld = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: second.auth, body: { upheld: true, note: 'a film, fine' } });
      expect(upheld.status, upheld.text).toBe(200);

      await waitUntil(async () => (await userStatus(creator.id)) === 'active', 'the ban reversed');
      expect((await call(app, 'GET', '/api/v1/wallet', { headers: creator.auth })).status).toBe(200);
      await handleOf(caseId).result();
      expect((await handleOf(caseId).describe()).typedSearchAttributes.get(searchAttributes.Phase)).toBe('closed');
      const actions = (await auditOf(caseId)).map((r) => r.action);
      expect(actions).toEqual(['claimed', 'decided', 'effect:ban', 'effect:end_live_streams', 'effect:end_stream', 'appealed', 'appeal_upheld', 'reversed:ban', 'closed']);
      expect((await auditOf(caseId)).find((r) => r.action === 'effect:ban')!.prior).toMatchObject({ status: 'active' });
      expect((await notificationsOf(creator.id, 'appeal_outcome'))[0]!.payload).toMatchObject({ caseId, upheld: true });
    });
    for (const g of gateways) await g.close();
  });
});

describe('durable timers', { timeout: 300_000 }, () => {
  it('a suspension lifts itself, a strike expires, a payout hold is set', async () => {
    const app = appWith({ strikeSeconds: 3, appealWindowSeconds: 2 });
    const creator = await newUser(app);
    const reporter = await newUser(app);
    const mod = await moderator(app);
    await withWorkers(t.ctx, async () => {
      const decideOnNewCase = async (reason: string, decision: Record<string, unknown>) => {
        const filed = await report(app, reporter, { targetType: 'user', targetId: creator.id, reason });
        const caseId = filed.json.data.caseId as string;
        expect((await claim(app, mod, caseId)).status).toBe(200);
        const res = await decide(app, mod, caseId, decision);
        expect(res.status, res.text).toBe(200);
        return caseId;
      };

      const suspension = await decideOnNewCase('harassment', { action: 'suspend', rule: 'harassment', durationSeconds: 3 });
      await waitUntil(async () => (await userStatus(creator.id)) === 'suspended', 'suspended');
      expect((await call(app, 'GET', '/api/v1/wallet', { headers: creator.auth })).json.error.code).toBe('account_suspended');
      await waitUntil(async () => (await userStatus(creator.id)) === 'active', 'the suspension lifted by its timer');
      await handleOf(suspension).result();
      expect((await auditOf(suspension)).map((r) => r.action)).toContain('suspension_lifted');

      const strike = await decideOnNewCase('spam', { action: 'strike', rule: 'spam' });
      const row = await waitUntil(() => t.ctx.db.selectFrom('strikes').selectAll().where('case_id', '=', strike).executeTakeFirst(), 'the strike');
      expect(row.expired_at).toBeNull();
      await handleOf(strike).result();
      const expired = await t.ctx.db.selectFrom('strikes').selectAll().where('case_id', '=', strike).executeTakeFirstOrThrow();
      expect(expired.expired_at).not.toBeNull();

      const hold = await decideOnNewCase('other', { action: 'payout_hold', rule: 'other' });
      await handleOf(hold).result();
      const holds = await t.ctx.db.selectFrom('payout_holds').selectAll().where('user_id', '=', creator.id).execute();
      expect(holds.map((h) => [h.source, h.reason, h.lifted_at])).toEqual([[`case:${hold}`, `moderation:${hold}`, null]]);
    });
  });

  it('an undecided case escalates past its SLA: priority raised, admins told', async () => {
    const app = appWith({ slaSeconds: { urgent: 3600, high: 2, normal: 2 } });
    const target = await newUser(app);
    const reporter = await newUser(app);
    const admin = await moderator(app, 'admin');
    await withWorkers(t.ctx, async () => {
      const filed = await report(app, reporter, { targetType: 'user', targetId: target.id, reason: 'spam' });
      const caseId = filed.json.data.caseId as string;
      expect((await caseOf(app, admin, caseId)).priority).toBe('normal');
      const escalated = await waitUntil(async () => {
        const c = await caseOf(app, admin, caseId);
        return c.priority === 'urgent' && c;
      }, 'two escalations: normal → high → urgent');
      expect(escalated.escalations).toBe(2);
      const told = await notificationsOf(admin.id, 'moderation_escalation');
      expect(told.map((n) => n.payload)).toEqual([expect.objectContaining({ caseId, priority: 'high' }), expect.objectContaining({ caseId, priority: 'urgent' })]);
      await handleOf(caseId).terminate('test over');
    });
  });
});

describe('a worker killed mid-decision', { timeout: 300_000 }, () => {
  it('applies each effect once', async () => {
    const { app } = live;
    const creator = await newUser(app);
    const reporter = await newUser(app);
    const mod = await moderator(app);
    const filed = await report(app, reporter, { targetType: 'user', targetId: creator.id, reason: 'hate' });
    const caseId = filed.json.data.caseId as string;
    const worker = await spawnWorkerProcess(t.ctx, 'platform');
    expect((await claim(app, mod, caseId)).status).toBe(200);
    expect((await decide(app, mod, caseId, { action: 'ban', rule: 'hate' })).status).toBe(200);
    // Killed as soon as the first effect is in: the rest (and perhaps that one again) run on the next worker.
    await waitUntil(async () => (await auditOf(caseId)).some((r) => r.action === 'effect:ban'), 'the first effect');
    worker.kill('SIGKILL');
    await withWorkers(t.ctx, async () => {
      // The killed attempt is given up on after its 20 s start-to-close timeout, then retried here.
      await waitUntil(async () => (await notificationsOf(reporter.id, 'report_outcome')).length > 0, 'the decision carried out', 150_000);
    });
    const audit = await auditOf(caseId);
    const keys = audit.map((r) => r.idempotency_key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(audit.filter((r) => r.action.startsWith('effect:')).map((r) => r.action)).toEqual(['effect:ban', 'effect:end_live_streams']);
    expect(await userStatus(creator.id)).toBe('banned');
    expect(await notificationsOf(creator.id, 'moderation_decision')).toHaveLength(1);
    await handleOf(caseId).terminate('test over');
  });
});

describe('content removal and its appeal', { timeout: 300_000 }, () => {
  it('a strike on a video hides it and strikes its owner; an upheld appeal shows it again and removes the strike; a chat message is deleted in the log', async () => {
    const { app } = live;
    const creator = await newUser(app);
    const reporter = await newUser(app);
    const [first, second] = [await moderator(app), await moderator(app)];
    const video = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: creator.id, title: 'Clip', source: 'upload', source_key: 'uploads/x', status: 'ready', visibility: 'public', moderation_hidden_at: null, source_size_bytes: null, failure_reason: null, duration_seconds: 5, width: 320, height: 240, master_playlist_key: 'v/master.m3u8', poster_key: null, storyboard_key: null, idempotency_key: null, ready_at: new Date(), deleted_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const stream = await createStream(app, creator);
    const { seq } = await publishChatEvent(t.ctx.nats, { kind: 'message', streamId: stream.id, userId: creator.id, username: creator.username, text: 'buy followers here', sentAt: new Date().toISOString() });
    await withWorkers(t.ctx, async () => {
      expect((await call(app, 'GET', `/api/v1/videos/${video.id}`)).status).toBe(200);
      const filed = await report(app, reporter, { targetType: 'video', targetId: video.id, reason: 'copyright', timestampSeconds: 3 });
      const caseId = filed.json.data.caseId as string;
      expect((await claim(app, first, caseId)).status).toBe(200);
      expect((await decide(app, first, caseId, { action: 'strike', rule: 'copyright', note: 'a whole film' })).status).toBe(200);
      await waitUntil(async () => (await call(app, 'GET', `/api/v1/videos/${video.id}`)).status === 404, 'the video hidden from the public');
      expect((await call(app, 'GET', `/api/v1/videos/${video.id}`, { headers: creator.auth })).status).toBe(200);
      await waitUntil(() => t.ctx.db.selectFrom('strikes').select('id').where('case_id', '=', caseId).executeTakeFirst(), 'the strike');

      await waitUntil(async () => (await notificationsOf(creator.id, 'moderation_decision')).length > 0, 'the statement of reasons');
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: reporter.auth, body: { message: 'me too' } })).status).toBe(403);
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: creator.auth, body: { message: 'I licensed it' } })).status).toBe(202);
      expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: second.auth, body: { upheld: true } })).status).toBe(200);
      await handleOf(caseId).result();
      expect((await call(app, 'GET', `/api/v1/videos/${video.id}`)).status).toBe(200);
      const strike = await t.ctx.db.selectFrom('strikes').selectAll().where('case_id', '=', caseId).executeTakeFirstOrThrow();
      expect(strike.removed_at).not.toBeNull();
      const detail = await caseOf(app, second, caseId);
      expect(detail.snapshot).toMatchObject({ title: 'Clip' });
      expect(detail.reports[0]).toMatchObject({ reason: 'copyright', timestampSeconds: 3 });
      expect(detail.history.map((h: { action: string }) => h.action)).toEqual(['claimed', 'decided', 'effect:hide_video', 'effect:strike', 'appealed', 'appeal_upheld', 'reversed:hide_video', 'reversed:strike', 'closed']);

      const chat = await report(app, reporter, { targetType: 'chat_message', targetId: `${stream.id}.${seq}`, reason: 'spam' });
      expect(chat.status, chat.text).toBe(201);
      const chatCase = chat.json.data.caseId as string;
      expect((await caseOf(app, first, chatCase)).snapshot).toMatchObject({ text: 'buy followers here', userId: creator.id });
      expect((await claim(app, first, chatCase)).status).toBe(200);
      expect((await decide(app, first, chatCase, { action: 'remove_content', rule: 'spam' })).status).toBe(200);
      const marker = await waitUntil(async () => {
        const next = await readChatEvent(t.ctx.nats, stream.id, seq + 1);
        return next?.kind === 'deleted' && next;
      }, 'the deletion marker in the chat log');
      expect(marker).toMatchObject({ messageId: String(seq), deletedBy: first.id });
      await handleOf(chatCase).terminate('test over');
    });
  });
});

describe('long cases', { timeout: 300_000 }, () => {
  it('a claim lapses and another moderator may take the case', async () => {
    const app = appWith({ claimSeconds: 2 });
    const target = await newUser(app);
    const reporter = await newUser(app);
    const [a, b] = [await moderator(app), await moderator(app)];
    await withWorkers(t.ctx, async () => {
      const caseId = (await report(app, reporter, { targetType: 'user', targetId: target.id, reason: 'spam' })).json.data.caseId as string;
      expect((await claim(app, a, caseId)).status).toBe(200);
      expect((await claim(app, b, caseId)).status).toBe(409);
      await waitUntil(async () => (await caseOf(app, b, caseId)).status === 'open', 'the claim lapsed');
      expect((await claim(app, b, caseId)).status).toBe(200);
      expect((await decide(app, a, caseId, { action: 'dismiss', rule: 'spam' })).status).toBe(409);
      expect((await auditOf(caseId)).map((r) => r.action)).toEqual(['claimed', 'claim_lapsed', 'claimed']);
      await handleOf(caseId).terminate('test over');
    });
  });

  it('continues as new with its reports, claim and timers carried over', async () => {
    const mod = await moderator(live.app);
    const target = await newUser(live.app);
    const caseId = `user-${target.id}-1`;
    await t.ctx.db.insertInto('moderation_cases').values({ id: caseId, target_type: 'user', target_id: target.id, sequence: 1, target_owner_id: target.id, priority: 'normal', priority_rank: 2, claimed_by: null, claim_expires_at: null, decision: null, decided_by: null, decided_at: null, sla_due_at: null, closed_at: null }).execute();
    await withWorkers(t.ctx, async () => {
      const handle = await t.ctx.temporal.client.workflow.start<typeof moderationCaseWorkflow>('moderationCaseWorkflow', {
        workflowId: workflowIds.moderation(caseId),
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ caseId, targetType: 'user', targetId: target.id, targetOwnerId: target.id, liveTarget: false, timings: { ...LONG }, maxHistoryEvents: 20 }],
      });
      for (let i = 0; i < 30; i++) await handle.signal(reportSignal, { reportId: `r${i}`, reason: i === 29 ? 'violence' : 'spam' });
      const carried = await waitUntil(async () => {
        const s = await handle.query(caseStateQuery);
        return s.reports === 30 && s.runs > 1 && s;
      }, 'every report counted across runs');
      expect(carried.priority).toBe('high');
      expect((await claim(live.app, mod, caseId)).status).toBe(200);
      expect((await decide(live.app, mod, caseId, { action: 'warn', rule: 'spam' })).status).toBe(200);
      await waitUntil(async () => (await notificationsOf(target.id, 'moderation_decision')).length > 0, 'the warning delivered');
      await handle.terminate('test over');
    });
  });
});

describe('watched words', { timeout: 300_000 }, () => {
  it('refuses or holds chat with a reason code, refuses titles, lets benign text through', async () => {
    const { app } = live;
    const admin = await moderator(app, 'admin');
    const creator = await newUser(app);
    const viewer = await newUser(app);
    expect((await call(app, 'PUT', '/api/v1/moderation/watched-words', { headers: creator.auth, body: { term: 'x', level: 'block' } })).status).toBe(403);
    expect((await call(app, 'PUT', '/api/v1/moderation/watched-words', { headers: admin.auth, body: { term: 'Fr33 Coins', level: 'block' } })).json.data.term).toBe('free coins');
    expect((await call(app, 'PUT', '/api/v1/moderation/watched-words', { headers: admin.auth, body: { term: 'ass', level: 'hold' } })).status).toBe(200);
    expect((await call(app, 'PUT', '/api/v1/moderation/watched-words', { headers: admin.auth, body: { term: '!!!', level: 'hold' } })).status).toBe(400);
    const channel = await call(app, 'PUT', '/api/v1/users/me/blocked-terms', { headers: creator.auth, body: { terms: ['Spoiler', 'spoiler'] } });
    expect(channel.json.data.terms).toEqual(['spoiler']);

    const title = await call(app, 'POST', '/api/v1/streams', { headers: creator.auth, body: { title: 'FREE COINS giveaway' } });
    expect(title.status).toBe(400);
    expect(title.json.error.details[0]).toMatchObject({ field: 'title', reason: 'watched_word_blocked', source: 'platform' });
    const own = await call(app, 'POST', '/api/v1/streams', { headers: creator.auth, body: { title: 'Finale', description: 'no spoiler please' } });
    expect(own.json.error.details[0]).toMatchObject({ field: 'description', reason: 'watched_word_blocked', source: 'channel' });
    const stream = await createStream(app, creator, { title: 'A classic bass session' });

    const { gateways, urls } = await startGateways(t.ctx, 1);
    try {
      const socket = await connectSocket(urls[0]!, `?token=${viewer.accessToken}`);
      socket.send({ type: 'join', streamId: stream.id });
      await waitUntil(() => socket.frames.some((f) => f.type === 'joined'), 'joined');
      const sent = async (text: string, nonce: string) => {
        socket.send({ type: 'chat', streamId: stream.id, text, nonce });
        return waitUntil(() => socket.frames.find((f) => f.nonce === nonce), `the answer to ${nonce}`);
      };
      expect(await sent('get fr33 coins here', 'a')).toMatchObject({ type: 'error', code: 'message_blocked' });
      expect(await sent('SPOILER: he dies', 'b')).toMatchObject({ type: 'error', code: 'message_blocked' });
      expect(await sent('you ass', 'c')).toMatchObject({ type: 'error', code: 'message_held' });
      expect(await sent('a classic pass, assassin level, no spoilers', 'd')).toMatchObject({ type: 'chat', text: 'a classic pass, assassin level, no spoilers' });
      socket.socket.close();
    } finally {
      for (const g of gateways) await g.close();
    }
  });
});
