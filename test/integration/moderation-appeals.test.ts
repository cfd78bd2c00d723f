import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import type { ModerationConfig } from '../../lib/config.ts';
import { fileReport, notifyRecipients } from '../../lib/moderation/store.ts';
import { insertNotifications } from '../../lib/notifications.ts';
import { caseHoldSource, setPayoutHold } from '../../lib/payouts/holds.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { caseStateQuery } from '../../workflows/moderation.ts';
import { useTestContext } from '../support/context.ts';
import { newUser, PASSWORD, setRole, type TestUser } from '../support/fixtures.ts';
import { startGateways, tryConnect } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Appeals after a sanction (restricted sign-in), the appeal thread, and the review rules
// around them: real API, Temporal workers, Postgres and NATS.

const t = useTestContext();
let app: App;

const MODERATION: ModerationConfig = {
  slaSeconds: { urgent: 3600, high: 3600, normal: 3600 },
  claimSeconds: 900,
  appealWindowSeconds: 180 * 86_400,
  strikeSeconds: 90 * 86_400,
  reportsPerHour: 1000,
  interimReporterMinAgeHours: 72,
};

beforeAll(() => {
  t.ctx.config.moderation = MODERATION;
  app = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1_000_000, loginPerMinute: 1000 }, moderation: MODERATION } });
});

async function staff(role: 'moderator' | 'admin' = 'moderator'): Promise<TestUser> {
  const user = await newUser(app);
  await setRole(t.ctx.db, user.id, role);
  return user;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const report = (who: TestUser, targetId: string, reason = 'spam') => call(app, 'POST', '/api/v1/reports', { headers: who.auth, body: { targetType: 'user', targetId, reason } });
const claimAndDecide = async (who: TestUser, caseId: string, decision: Record<string, unknown>) => {
  expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/claim`, { headers: who.auth })).status).toBe(200);
  const res = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/decision`, { headers: who.auth, body: decision });
  expect(res.status, res.text).toBe(200);
};
const login = (who: TestUser) => call(app, 'POST', '/api/v1/auth/login', { body: { login: who.username, password: PASSWORD } });
const userStatus = async (id: string) => (await t.ctx.db.selectFrom('users').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const notificationsOf = (userId: string, type: string) =>
  t.ctx.db.selectFrom('notifications').select(['entity_id', 'payload']).where('recipient_id', '=', userId).where('type', '=', type as never).orderBy('created_at').execute();
const auditActions = async (caseId: string) => (await t.ctx.db.selectFrom('moderation_audit').select('action').where('case_id', '=', caseId).orderBy('id').execute()).map((r) => r.action);
const handleOf = (caseId: string) => t.ctx.temporal.client.workflow.getHandle(workflowIds.moderation(caseId));

describe('a banned user appeals', { timeout: 300_000 }, () => {
  it('signs in with an appeal-only token, reads the statement, appeals and talks to the moderator; full access returns after the ruling', async () => {
    const creator = await newUser(app);
    const reporter = await newUser(app);
    const [first, second] = [await staff(), await staff()];
    const { gateways, urls } = await startGateways(t.ctx, 1);
    try {
      await withWorkers(
        t.ctx,
        async () => {
          const caseId = (await report(reporter, creator.id, 'harassment')).json.data.caseId as string;
          await claimAndDecide(first, caseId, { action: 'ban', rule: 'harassment', note: 'repeated insults' });
          await waitUntil(async () => (await notificationsOf(creator.id, 'moderation_decision')).length > 0, 'the statement of reasons');
          expect(await userStatus(creator.id)).toBe('banned');

          // The session held before the ban: refused everywhere but the appeal routes.
          expect((await call(app, 'GET', '/api/v1/wallet', { headers: creator.auth })).json.error.code).toBe('account_banned');
          const me = await call(app, 'GET', '/api/v1/users/me', { headers: creator.auth });
          expect(me.status, me.text).toBe(200);
          expect(me.json.data).toMatchObject({ status: 'banned', restriction: { status: 'banned', until: null, caseIds: [caseId] } });

          // Its access token long expired, the user signs in again: an appeal-only token.
          const signedIn = await login(creator);
          expect(signedIn.status, signedIn.text).toBe(200);
          expect(signedIn.json.data).toMatchObject({ access: 'appeal', restriction: { status: 'banned', until: null, caseIds: [caseId] }, user: { status: 'banned' } });
          const limited = bearer(signedIn.json.data.accessToken);

          // Nothing else: other routes, publishing routes, staff routes and the realtime gateway refuse it.
          for (const [method, path] of [
            ['GET', '/api/v1/wallet'],
            ['POST', '/api/v1/streams'],
            ['GET', '/api/v1/moderation/cases'],
            ['PATCH', '/api/v1/users/me'],
            ['GET', `/api/v1/users/${reporter.id}`],
          ] as const) {
            const refused = await call(app, method, path, { headers: limited, body: method === 'GET' ? undefined : { title: 'x' } });
            expect(refused.status, `${method} ${path}`).toBe(403);
            expect(refused.json.error.code, `${method} ${path}`).toBe('account_restricted');
          }
          expect(await tryConnect(urls[0]!, `?token=${signedIn.json.data.accessToken}`)).toBe(403);

          // What appealing needs: the notifications, the decision, the appeal.
          const inbox = await call(app, 'GET', '/api/v1/notifications', { headers: limited });
          expect(inbox.status, inbox.text).toBe(200);
          const statement = inbox.json.data.find((n: { type: string }) => n.type === 'moderation_decision');
          expect(statement.payload).toMatchObject({ caseId, action: 'ban', rule: 'harassment', note: 'repeated insults' });
          expect((await call(app, 'POST', '/api/v1/notifications/read', { headers: limited, body: { ids: [statement.id] } })).json.data.marked).toBe(1);
          const mine = await call(app, 'GET', '/api/v1/moderation/my-cases', { headers: limited });
          expect(mine.json.data).toEqual([expect.objectContaining({ id: caseId, decision: { action: 'ban', rule: 'harassment', note: 'repeated insults', durationSeconds: null }, appeal: null })]);
          const publicPart = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: limited });
          expect(publicPart.status, publicPart.text).toBe(200);
          expect(publicPart.json.data).toMatchObject({ id: caseId, status: 'decided', decision: { action: 'ban' } });
          for (const hidden of ['reports', 'history', 'snapshot', 'decidedBy']) expect(publicPart.json.data).not.toHaveProperty(hidden);

          const appealed = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: limited, body: { message: 'I was quoting someone' } });
          expect(appealed.status, appealed.text).toBe(202);

          // The thread, both ways; the moderator who decided stays out of it.
          const thread = `/api/v1/moderation/cases/${caseId}/appeal/messages`;
          const opening = await call(app, 'POST', thread, { headers: { ...limited, 'idempotency-key': 'm1' }, body: { message: 'Here is the context.' } });
          expect(opening.status, opening.text).toBe(201);
          const retried = await call(app, 'POST', thread, { headers: { ...limited, 'idempotency-key': 'm1' }, body: { message: 'Here is the context.' } });
          expect(retried.status).toBe(200);
          expect(retried.json.data.id).toBe(opening.json.data.id);
          expect((await call(app, 'POST', thread, { headers: first.auth, body: { message: 'I decided it' } })).json.error.message).toContain('original_reviewer');
          expect((await call(app, 'POST', thread, { headers: reporter.auth, body: { message: 'me too' } })).status).toBe(403);
          expect((await call(app, 'GET', thread, { headers: reporter.auth })).status).toBe(403);
          const question = await call(app, 'POST', thread, { headers: second.auth, body: { message: 'Who were you quoting?' } });
          expect(question.status, question.text).toBe(201);
          const toldUser = await waitUntil(async () => (await notificationsOf(creator.id, 'appeal_message'))[0], 'the appellant told of the question');
          expect(toldUser.payload).toMatchObject({ caseId, from: 'moderator', excerpt: 'Who were you quoting?' });
          expect((await call(app, 'POST', thread, { headers: limited, body: { message: 'A film script.' } })).status).toBe(201);
          const toldModerator = await waitUntil(async () => (await notificationsOf(second.id, 'appeal_message'))[0], 'the moderator told of the answer');
          expect(toldModerator.payload).toMatchObject({ caseId, from: 'appellant', excerpt: 'A film script.' });
          const read = await call(app, 'GET', thread, { headers: limited });
          expect(read.json.data.map((m: { authorRole: string; body: string; authorId: string | null }) => [m.authorRole, m.body, m.authorId])).toEqual([
            ['appellant', 'Here is the context.', creator.id],
            ['moderator', 'Who were you quoting?', null],
            ['appellant', 'A film script.', creator.id],
          ]);
          expect((await call(app, 'GET', thread, { headers: second.auth })).json.data[1].authorId).toBe(second.id);

          // Still banned: a refresh gives another appeal-only token.
          const again = await call(app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: signedIn.json.data.refreshToken } });
          expect(again.json.data).toMatchObject({ access: 'appeal', restriction: { status: 'banned' } });

          const upheld = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: second.auth, body: { upheld: true, note: 'a quote, fine' } });
          expect(upheld.status, upheld.text).toBe(200);
          await waitUntil(async () => (await userStatus(creator.id)) === 'active', 'the ban reversed');
          expect((await call(app, 'POST', thread, { headers: limited, body: { message: 'thanks' } })).status).toBe(409);

          // The appeal-only token stays what it is; the next refresh gives full access.
          expect((await call(app, 'GET', '/api/v1/wallet', { headers: bearer(again.json.data.accessToken) })).json.error.code).toBe('account_restricted');
          const full = await call(app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: again.json.data.refreshToken } });
          expect(full.json.data).toMatchObject({ access: 'full', restriction: null });
          expect((await call(app, 'GET', '/api/v1/wallet', { headers: bearer(full.json.data.accessToken) })).status).toBe(200);
          expect((await call(app, 'GET', '/api/v1/users/me', { headers: bearer(full.json.data.accessToken) })).json.data.restriction).toBeNull();
          const ruled = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: bearer(full.json.data.accessToken) });
          expect(ruled.json.data.appeal).toMatchObject({ message: 'I was quoting someone', upheld: true, note: 'a quote, fine' });

          await handleOf(caseId).result();
          expect(await auditActions(caseId)).toEqual([
            'claimed',
            'decided',
            'effect:ban',
            'effect:end_live_streams',
            'appealed',
            'appeal_message',
            'appeal_message',
            'appeal_message',
            'appeal_upheld',
            'reversed:ban',
            'closed',
          ]);
        },
        { media: false },
      );
    } finally {
      for (const g of gateways) await g.close();
    }
  });

  it('a suspended user signs in restricted until the suspension ends', async () => {
    const user = await newUser(app);
    const until = new Date(Date.now() + 3_600_000);
    await t.ctx.db.updateTable('users').set({ status: 'suspended', suspended_until: until }).where('id', '=', user.id).execute();
    const signedIn = await login(user);
    expect(signedIn.json.data).toMatchObject({ access: 'appeal', restriction: { status: 'suspended', until: until.toISOString(), caseIds: [] } });
    await t.ctx.db.updateTable('users').set({ suspended_until: new Date(Date.now() - 1000) }).where('id', '=', user.id).execute();
    const refreshed = await call(app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: signedIn.json.data.refreshToken } });
    expect(refreshed.json.data).toMatchObject({ access: 'full', restriction: null });
  });
});

describe('review rules', { timeout: 300_000 }, () => {
  it('a moderator reads a case about themselves only as its affected user; a rejected appeal says why', async () => {
    const target = await staff();
    const reporter = await newUser(app);
    const admin = await staff('admin');
    const other = await staff();
    await withWorkers(
      t.ctx,
      async () => {
        const caseId = (await report(reporter, target.id)).json.data.caseId as string;
        // Not in their queue, not readable while open, the evidence never theirs to read.
        const queue = await call(app, 'GET', '/api/v1/moderation/cases?limit=100', { headers: target.auth });
        expect(queue.json.data.map((c: { id: string }) => c.id)).not.toContain(caseId);
        expect((await call(app, 'GET', '/api/v1/moderation/cases?limit=100', { headers: admin.auth })).json.data.map((c: { id: string }) => c.id)).toContain(caseId);
        expect((await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: target.auth })).status).toBe(404);
        expect((await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: reporter.auth })).status).toBe(403);

        await claimAndDecide(admin, caseId, { action: 'warn', rule: 'spam', note: 'links in bio' });
        await waitUntil(async () => (await notificationsOf(target.id, 'moderation_decision')).length > 0, 'the warning');
        const own = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: target.auth });
        expect(own.status).toBe(200);
        expect(own.json.data).toMatchObject({ decision: { action: 'warn', note: 'links in bio' } });
        expect(own.json.data).not.toHaveProperty('reports');
        expect((await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: other.auth })).json.data.reports).toHaveLength(1);

        expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal`, { headers: target.auth, body: { message: 'They are my own links' } })).status).toBe(202);
        const bare = await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: other.auth, body: { upheld: false } });
        expect(bare.status).toBe(400);
        expect(bare.json.error.details[0].field).toBe('note');
        expect((await call(app, 'POST', `/api/v1/moderation/cases/${caseId}/appeal/decision`, { headers: other.auth, body: { upheld: false, note: 'Links to a paid scheme are spam' } })).status).toBe(200);
        const outcome = await waitUntil(async () => (await notificationsOf(target.id, 'appeal_outcome'))[0], 'the ruling delivered');
        expect(outcome.payload).toMatchObject({ caseId, upheld: false, note: 'Links to a paid scheme are spam' });
        const after = await call(app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: target.auth });
        expect(after.json.data.appeal).toMatchObject({ upheld: false, note: 'Links to a paid scheme are spam' });
        await handleOf(caseId).result();
      },
      { media: false },
    );
  });

  it('a repeated report does not count toward the 10-report threshold', async () => {
    const target = await newUser(app);
    const reporters = await Promise.all(Array.from({ length: 10 }, () => newUser(app)));
    await withWorkers(
      t.ctx,
      async () => {
        let caseId = '';
        for (const r of reporters.slice(0, 9)) caseId = (await report(r, target.id)).json.data.caseId;
        for (let i = 0; i < 3; i++) expect((await report(reporters[0]!, target.id)).json.data.duplicate).toBe(true);
        const nine = await t.ctx.db.selectFrom('moderation_cases').select(['report_count', 'priority']).where('id', '=', caseId).executeTakeFirstOrThrow();
        expect(nine).toEqual({ report_count: 9, priority: 'normal' });
        await report(reporters[9]!, target.id);
        const state = await waitUntil(async () => {
          const s = await handleOf(caseId).query(caseStateQuery);
          return s.priority === 'high' && s;
        }, 'the tenth reporter raising the priority');
        expect(state.reports).toBe(10);
        await handleOf(caseId).terminate('test over');
      },
      { media: false },
    );
  });

  it('a report filed while its case is being decided opens the next case, never joins the decided one', async () => {
    const target = await newUser(app);
    const [early, late] = [await newUser(app), await newUser(app)];
    const intake = (reporterId: string) => ({ reporterId, targetType: 'user' as const, targetId: target.id, targetOwnerId: target.id, reason: 'spam' as const, details: '', timestampSeconds: null, priority: 'normal' as const, snapshot: {} });
    const first = await fileReport(t.ctx.db, intake(early.id));
    // A decision holds the case row; a report arrives before it commits.
    let filing: ReturnType<typeof fileReport> | undefined;
    await t.ctx.db.transaction().execute(async (tx) => {
      await tx.updateTable('moderation_cases').set({ status: 'decided' }).where('id', '=', first.caseId).execute();
      filing = fileReport(t.ctx.db, intake(late.id));
      await waitUntil(async () => {
        const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(t.ctx.db);
        return rows[0]!.waiting > 0;
      }, 'the report waiting on the decision');
    });
    const second = await filing!;
    expect(second).toMatchObject({ caseId: `user-${target.id}-2`, opened: true, reportCount: 1 });
    expect((await t.ctx.db.selectFrom('moderation_cases').select('report_count').where('id', '=', first.caseId).executeTakeFirstOrThrow()).report_count).toBe(1);
  });
});

describe('payout holds by source', () => {
  it('a moderation case’s hold and the admins’ hold are separate: re-wording or lifting one leaves the other', async () => {
    const admin = await staff('admin');
    const creator = await newUser(app);
    const path = `/api/v1/finance/payout-holds/${creator.id}`;
    expect((await call(app, 'PUT', path, { headers: admin.auth, body: { reason: 'chargebacks' } })).status).toBe(201);
    const caseId = `user-${creator.id}-1`;
    await t.ctx.db.transaction().execute((tx) => setPayoutHold(tx, { userId: creator.id, reason: `moderation:${caseId}`, setBy: null, source: caseHoldSource(caseId) }));
    expect((await call(app, 'PUT', path, { headers: admin.auth, body: { reason: 'fraud review' } })).status).toBe(200);
    const both = await call(app, 'GET', path, { headers: admin.auth });
    expect(both.json.data.holds.map((h: { source: string; reason: string }) => [h.source, h.reason])).toEqual([
      ['admin', 'fraud review'],
      [`case:${caseId}`, `moderation:${caseId}`],
    ]);
    // The admins lift theirs; the case's hold keeps the creator held.
    expect((await call(app, 'DELETE', path, { headers: admin.auth })).status).toBe(200);
    expect((await call(app, 'DELETE', path, { headers: admin.auth })).status).toBe(404);
    const left = await call(app, 'GET', path, { headers: admin.auth });
    expect(left.json.data).toMatchObject({ source: `case:${caseId}`, reason: `moderation:${caseId}` });
    expect(left.json.data.holds).toHaveLength(1);
  });
});

describe('owed notifications', () => {
  it('moderation notices ignore the recipient’s settings; ordinary ones respect them', async () => {
    const user = await newUser(app);
    await t.ctx.db.insertInto('notification_settings').values({ user_id: user.id, type: 'appeal_outcome', in_app: false }).execute();
    const event = (id: string) => ({ id, type: 'appeal_outcome' as const, actorId: null, entityType: 'moderation_case', entityId: 'x', payload: {} });
    expect(await insertNotifications(t.ctx.db, event(`optional:${user.id}`), sql`select ${user.id}::uuid as recipient_id`)).toEqual([]);
    expect(await notifyRecipients(t.ctx.db, t.ctx.nats, t.ctx.temporal, event(`owed:${user.id}`), sql`select ${user.id}::uuid as recipient_id`)).toBe(1);
  });
});
