import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import { archiveChatEvents, pageArchivedChat } from '../../lib/chat-archive.ts';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';
import { headObject } from '../../lib/s3.ts';
import { provisionPlatform } from '../../scripts/stack/provision.ts';
import type { retentionWorkflow } from '../../workflows/maintenance.ts';
import { useTestContext, type TestContext } from '../support/context.ts';
import { newUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { testResources } from '../support/test-environment.ts';
import { withWorkers } from '../support/workers.ts';
import { deleteAllSchedules } from '../support/schedules.ts';

const t = useTestContext();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A read notification for `userId`, read `readAgo` milliseconds ago (or unread). */
const notification = (userId: string, name: string, readAgo: number | null) => ({
  event_id: `retention:${name}`,
  recipient_id: userId,
  type: 'stream_live' as const,
  actor_id: null,
  entity_type: 'stream',
  entity_id: name,
  read_at: readAgo === null ? null : new Date(Date.now() - readAgo),
});

const notificationsLeft = async (ctx: TestContext, userId: string) =>
  (await ctx.db.selectFrom('notifications').select('entity_id').where('recipient_id', '=', userId).orderBy('entity_id').execute()).map((r) => r.entity_id);

describe('retention', () => {
  it('deletes read notifications past their age, expired blacklist entries, sessions ended over 30 days ago and stale counters', async () => {
    const user = await newUser(createApp(t.ctx.apiDeps()));
    await t.ctx.db
      .insertInto('notifications')
      .values([
        notification(user.id, 'read-just-over', 30 * DAY + HOUR),
        notification(user.id, 'read-just-under', 30 * DAY - HOUR),
        notification(user.id, 'unread-old', null),
      ])
      .execute();
    await t.ctx.db
      .insertInto('revoked_access_tokens')
      .values([
        { jti: randomUUID(), expires_at: new Date(Date.now() - 60_000) },
        { jti: randomUUID(), expires_at: new Date(Date.now() + 60_000) },
      ])
      .execute();
    // Sessions that ended (expired or revoked) just over and just under 30 days ago, each with a refresh token.
    const session = (name: string, ended: { expiredAgo?: number; revokedAgo?: number }) => ({
      id: randomUUID(),
      user_id: user.id,
      created_at: new Date(Date.now() - 60 * DAY),
      expires_at: new Date(Date.now() - (ended.expiredAgo ?? -DAY)),
      revoked_at: ended.revokedAgo === undefined ? null : new Date(Date.now() - ended.revokedAgo),
      revoked_reason: ended.revokedAgo === undefined ? null : 'logout',
      user_agent: name,
    });
    const sessions = [
      session('expired-over', { expiredAgo: 30 * DAY + HOUR }),
      session('revoked-over', { revokedAgo: 30 * DAY + HOUR }),
      session('expired-under', { expiredAgo: 30 * DAY - HOUR }),
      session('revoked-under', { revokedAgo: 30 * DAY - HOUR }),
    ];
    await t.ctx.db.insertInto('auth_sessions').values(sessions).execute();
    await t.ctx.db
      .insertInto('refresh_tokens')
      .values(sessions.map((s) => ({ token_hash: `hash-of-${s.user_agent}`, session_id: s.id })))
      .execute();
    await hitRateLimit(t.ctx.db, 'stale', 5, 60, new Date(Date.now() - 2 * DAY));
    // An upload abandoned 9 days ago (with bytes that did arrive) and one started today.
    const upload = (daysAgo: number) => ({
      owner_id: user.id,
      title: `upload ${daysAgo}`,
      source: 'upload' as const,
      source_key: `uploads/abandoned-${daysAgo}/source`,
      created_at: sql<Date>`now() - make_interval(days => ${daysAgo})`,
    });
    await t.ctx.db.insertInto('videos').values([upload(9), upload(0)]).execute();
    await t.ctx.storage.client.send(new PutObjectCommand({ Bucket: t.ctx.storage.bucket, Key: t.ctx.storage.key('uploads/abandoned-9/source'), Body: 'partial' }));
    await hitRateLimit(t.ctx.db, 'fresh', 5, 60);
    // Counted views: one folded into the counts long ago (purged), one as old but not folded yet, one recent.
    const views = await t.ctx.db
      .insertInto('videos')
      .values({ owner_id: user.id, title: 'watched', source: 'upload', source_key: 'uploads/watched/source' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const view = (name: string, daysAgo: number, rolledUp: boolean) => ({ video_id: views.id, viewer: name, viewed_at: new Date(Date.now() - daysAgo * DAY), rolled_up: rolledUp });
    await t.ctx.db.insertInto('video_views').values([view('old-counted', 91, true), view('old-pending', 91, false), view('recent', 89, true)]).execute();
    // Analytics' watch time and viewer samples: one just over 90 days old of each (purged), one just under.
    const hourAgo = (daysAgo: number) => new Date(Math.floor((Date.now() - daysAgo * DAY) / HOUR) * HOUR);
    const watched = (viewer: string, daysAgo: number) => ({ video_id: views.id, viewer, hour_start: hourAgo(daysAgo), seconds: 10, last_beat_at: hourAgo(daysAgo), last_position: 10 });
    await t.ctx.db.insertInto('watch_time').values([watched('old', 90.1), watched('recent', 89.9)]).execute();
    const sampledStream = await insertStream(t.ctx, user.id, 'ended');
    await t.ctx.db
      .insertInto('stream_viewer_samples')
      .values([hourAgo(90.1), hourAgo(89.9)].map((minute_start) => ({ stream_id: sampledStream, minute_start, viewers: 1 })))
      .execute();

    // Two-factor sign-in challenges: one expired two days ago (purged), one an hour ago (kept a day).
    await t.ctx.db
      .insertInto('login_challenges')
      .values([
        { token_hash: `challenge-old-${t.ctx.id}`, user_id: user.id, expires_at: new Date(Date.now() - 2 * DAY) },
        { token_hash: `challenge-recent-${t.ctx.id}`, user_id: user.id, expires_at: new Date(Date.now() - HOUR) },
      ])
      .execute();

    // Sent mail: one sent 31 days ago (purged), one 29 days ago, and one never sent (kept: its workflow may still send it).
    const outbox = (name: string, sentDaysAgo: number | null) => ({
      id: randomUUID(),
      key: `retention-test/${name}-${t.ctx.id}`,
      to_address: `${name}@example.test`,
      subject: name,
      message_id: `<${randomUUID()}@example.test>`,
      sent_at: sentDaysAgo === null ? null : new Date(Date.now() - sentDaysAgo * DAY),
    });
    await t.ctx.db.insertInto('email_outbox').values([outbox('sent-31-days-ago', 31), outbox('sent-29-days-ago', 29), outbox('unsent', null)]).execute();

    const result = await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', {
        workflowId: `maintenance/retention-${t.ctx.id}`,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ readNotificationDays: 30, viewDays: 90 }],
      }),
    );

    expect(result).toEqual({ readNotifications: 1, revokedAccessTokens: 1, authSessions: 2, rateLimitCounters: 1, countedViews: 1, loginChallenges: 1, sentEmails: 1, watchTime: 1, viewerSamples: 1, abandonedUploads: 1 });
    // README "Email": sent messages are kept 30 days.
    expect((await t.ctx.db.selectFrom('email_outbox').select('subject').where('key', 'like', 'retention-test/%').orderBy('subject').execute()).map((m) => m.subject)).toEqual(['sent-29-days-ago', 'unsent']);
    expect((await t.ctx.db.selectFrom('login_challenges').select('token_hash').where('user_id', '=', user.id).execute()).map((c) => c.token_hash)).toEqual([`challenge-recent-${t.ctx.id}`]);
    expect((await t.ctx.db.selectFrom('video_views').select('viewer').where('video_id', '=', views.id).orderBy('viewer').execute()).map((v) => v.viewer)).toEqual(['old-pending', 'recent']);
    expect((await t.ctx.db.selectFrom('watch_time').select('viewer').where('video_id', '=', views.id).execute()).map((w) => w.viewer)).toEqual(['recent']);
    expect(await t.ctx.db.selectFrom('stream_viewer_samples').select('minute_start').where('stream_id', '=', sampledStream).execute()).toEqual([{ minute_start: hourAgo(89.9) }]);
    expect(await notificationsLeft(t.ctx, user.id)).toEqual(['read-just-under', 'unread-old']);
    const sessionsLeft = await t.ctx.db.selectFrom('auth_sessions').select('user_agent').where('user_id', '=', user.id).orderBy('user_agent').execute();
    // The registration's own live session stays too (its user agent is unset).
    expect(sessionsLeft.map((s) => s.user_agent)).toEqual(['expired-under', 'revoked-under', null]);
    const tokensLeft = await t.ctx.db.selectFrom('refresh_tokens').select('token_hash').where('token_hash', 'like', 'hash-of-%').orderBy('token_hash').execute();
    expect(tokensLeft.map((r) => r.token_hash)).toEqual(['hash-of-expired-under', 'hash-of-revoked-under']);
    expect(await t.ctx.db.selectFrom('revoked_access_tokens').select('expires_at').execute()).toEqual([{ expires_at: expect.any(Date) }]);
    expect((await t.ctx.db.selectFrom('videos').select('title').orderBy('title').execute()).map((v) => v.title)).toEqual(['upload 0', 'watched']);
    expect(await headObject(t.ctx.storage, 'uploads/abandoned-9/source')).toBeNull();
    const counters = (await t.ctx.db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key);
    expect(counters).toContain('fresh');
    expect(counters).not.toContain('stale');
  });

  it('provisions the two daily Schedules with the retention from the environment, and their runs purge by it', async () => {
    // Provisioning creates the Schedules under their fixed ids, so it runs against a namespace
    // of this checkout's own, on this file's database, Mongo database and task queue.
    const namespace = testResources.provisioningNamespace;
    const configFrom = (retention: Record<string, string | undefined>): Config =>
      parseConfig({
        ...processEnv(),
        DATABASE_URL: t.ctx.config.postgres.url,
        MONGO_DATABASE: t.ctx.config.mongo.database,
        S3_KEY_PREFIX: t.ctx.config.s3.keyPrefix,
        NATS_SUBJECT_PREFIX: t.ctx.config.nats.subjectPrefix,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TASK_QUEUE: t.ctx.config.temporal.taskQueue,
        TEMPORAL_MEDIA_TASK_QUEUE: t.ctx.config.temporal.mediaTaskQueue,
        ...retention,
      });
    const client = new Client({ connection: t.ctx.temporal.connection, namespace });
    const retention = client.schedule.getHandle('maintenance-retention');
    const chatRetention = client.schedule.getHandle('maintenance-chat-retention');
    const earningsMaturation = client.schedule.getHandle('earnings-maturation');
    const describeBoth = async () => Promise.all([retention.describe(), chatRetention.describe()]);
    // Left by an interrupted run: provisioning must create them, not find them.
    await deleteAllSchedules(client);
    try {
      // README defaults: NOTIFICATION_RETENTION_DAYS 90, CHAT_RETENTION_DAYS 30, VIEW_RETENTION_DAYS 90.
      await provisionPlatform(configFrom({ NOTIFICATION_RETENTION_DAYS: undefined, CHAT_RETENTION_DAYS: undefined, VIEW_RETENTION_DAYS: undefined }), () => {});
      const [byDefault, chatByDefault] = await describeBoth();
      expect(byDefault.action).toMatchObject({ workflowType: 'retentionWorkflow', args: [{ readNotificationDays: 90, viewDays: 90 }] });
      expect(chatByDefault.action).toMatchObject({ workflowType: 'chatRetentionWorkflow', args: [{ chatDays: 30 }] });
      // README defaults: EARNINGS_HOLD_DAYS 7, SETTLEMENT_CURRENCY USD; run hourly.
      const maturationByDefault = await earningsMaturation.describe();
      expect(maturationByDefault.action).toMatchObject({ workflowType: 'earningsMaturationWorkflow', workflowId: 'earnings-maturation', args: [{ holdDays: 7, currency: 'USD' }] });
      expect(maturationByDefault.spec.intervals?.map((interval) => interval.every)).toEqual([HOUR]);

      // Provisioning again with other values updates the same two Schedules in place.
      const config = configFrom({ NOTIFICATION_RETENTION_DAYS: '45', CHAT_RETENTION_DAYS: '12', VIEW_RETENTION_DAYS: '30', EARNINGS_HOLD_DAYS: '3', SETTLEMENT_CURRENCY: 'EUR' });
      await provisionPlatform(config, () => {});
      expect((await earningsMaturation.describe()).action).toMatchObject({ args: [{ holdDays: 3, currency: 'EUR' }] });
      const [described, chatDescribed] = await describeBoth();
      expect(described.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'retentionWorkflow',
        workflowId: 'maintenance/retention',
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ readNotificationDays: 45, viewDays: 30 }],
      });
      expect(chatDescribed.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'chatRetentionWorkflow',
        workflowId: 'maintenance/chat-retention',
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ chatDays: 12 }],
      });
      for (const schedule of [described, chatDescribed]) {
        expect(schedule.spec.intervals?.map((interval) => interval.every)).toEqual([DAY]); // daily
        expect(schedule.state.paused).toBe(false);
      }

      // What a run of each, as scheduled, deletes: read notifications just over 45 days old
      // and archived chat just over 12 days old, nothing younger.
      const user = await newUser(createApp(t.ctx.apiDeps()));
      await t.ctx.db
        .insertInto('notifications')
        .values([notification(user.id, 'read-45-days-ago-and-an-hour', 45 * DAY + HOUR), notification(user.id, 'read-45-days-ago-less-an-hour', 45 * DAY - HOUR)])
        .execute();
      const streamId = randomUUID();
      const chatAt = (seq: number, ago: number) => {
        const at = new Date(Date.now() - ago);
        return { kind: 'message' as const, streamId, seq, userId: user.id, username: user.username, text: `m${seq}`, sentAt: at.toISOString(), storedAt: at };
      };
      await archiveChatEvents(t.ctx.mongo, [chatAt(1, 12 * DAY + 2 * HOUR), chatAt(2, 12 * DAY - 2 * HOUR)]);

      const [notificationsRun, chatRun] = await withWorkers(
        { ...t.ctx, config },
        () => Promise.all([runScheduledOnce(client, retention), runScheduledOnce(client, chatRetention)]),
        { media: false },
      );
      expect(notificationsRun).toMatchObject({ readNotifications: 1 });
      expect(chatRun).toEqual({ chatMessages: 1 });
      expect(await notificationsLeft(t.ctx, user.id)).toEqual(['read-45-days-ago-less-an-hour']);
      expect((await pageArchivedChat(t.ctx.mongo, streamId, 10)).messages.map((m) => m.seq)).toEqual([2]);
    } finally {
      await deleteAllSchedules(client); // nothing of this test runs on a schedule afterwards
    }
  });
});

/** Triggers a Schedule now and waits for the result of the run it starts. */
async function runScheduledOnce(client: Client, schedule: ReturnType<Client['schedule']['getHandle']>): Promise<unknown> {
  await schedule.trigger();
  for (let i = 0; i < 600; i++) {
    const [action] = (await schedule.describe()).info.recentActions;
    if (action) return client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result();
    await sleep(100);
  }
  throw new Error(`schedule ${schedule.scheduleId} started nothing`);
}
