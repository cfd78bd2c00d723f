import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { notifyRecipients } from '../../lib/moderation/store.ts';
import { insertNotifications, mailNotificationEvent, raiseNotificationEvent, type NotificationEvent } from '../../lib/notifications.ts';
import type { NotificationType } from '../../lib/schema.ts';
import { webLinks } from '../../lib/web-urls.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { fanoutWorkflow, notificationDigestWorkflow, notificationEmailWorkflow } from '../../workflows/index.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { activityAttemptsOf, pendingActivityOf } from '../support/history.ts';
import { call } from '../support/http.ts';
import { headersOf, messagesTo, readMessage, type MailSummary } from '../support/mailpit.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Notification email over real SMTP (mailpit) (README, "Notification email"): instant mail
// per notification, the daily digest, and the settings that choose between them.

const t = useTestApp();
const web = () => webLinks(t.ctx.config.publicUrls.web);

let eventNo = 0;
const event = (type: NotificationType, title: string, entityId = crypto.randomUUID()): NotificationEvent => ({
  id: `${type}:test-${++eventNo}-${crypto.randomUUID()}`,
  type,
  actorId: null,
  entityType: type === 'video_published' || type.startsWith('comment') ? 'video' : 'user',
  entityId,
  payload: { title },
});

async function verifiedUser(): Promise<TestUser> {
  const user = await newUser(t.app);
  await t.ctx.db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', user.id).execute();
  return user;
}

const putSettings = (user: TestUser, body: unknown) => call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: user.auth, body });

/** Raises an event for these users and waits for its fan-out and then its mail workflow: what the mail workflow sent. */
async function deliver(e: NotificationEvent, users: TestUser[]): Promise<{ sent: number }> {
  const fanoutId = await raiseNotificationEvent(t.ctx.temporal, e, { kind: 'users', userIds: users.map((u) => u.id) });
  await t.ctx.temporal.client.workflow.getHandle<typeof fanoutWorkflow>(fanoutId).result();
  return t.ctx.temporal.client.workflow.getHandle<typeof notificationEmailWorkflow>(workflowIds.notificationEmail(e.id)).result();
}

/** Notification mail to the address (not the verification mail its registration sent), newest first. */
async function notificationMail(address: string): Promise<MailSummary[]> {
  return (await messagesTo(address)).filter((m) => m.Subject.startsWith('StreamHub: '));
}

/** Waits for a mail whose subject has `marker`, then returns every notification mail to the address. */
async function untilMail(address: string, marker: string): Promise<MailSummary[]> {
  return waitUntil(async () => {
    const all = await notificationMail(address);
    return all.some((m) => m.Subject.includes(marker)) && all;
  }, `mail "${marker}" to ${address}`);
}

function runDigest(runAt: Date, id: string) {
  return t.ctx.temporal.client.workflow.execute<typeof notificationDigestWorkflow>('notificationDigestWorkflow', {
    workflowId: `notification-digest-test-${id}`,
    taskQueue: t.ctx.config.temporal.taskQueue,
    args: [{ runAt: runAt.toISOString(), pageSize: 2 }],
  });
}

describe('notification settings', () => {
  it('have an email channel per type with defaults, change one field at a time, and refuse unknown types and values', async () => {
    const user = await newUser(t.app);
    const initial = (await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: user.auth })).json.data;
    expect(initial.comment_received).toEqual({ inApp: true, email: 'off' });
    expect(initial.tip_received).toEqual({ inApp: true, email: 'instant' });
    expect(initial.video_published).toEqual({ inApp: true, email: 'daily' });

    expect((await putSettings(user, { comment_received: { inApp: false } })).json.data.comment_received).toEqual({ inApp: false, email: 'off' });
    // Changing the email channel keeps the in-app setting, and the other way round.
    expect((await putSettings(user, { comment_received: { email: 'instant' } })).json.data.comment_received).toEqual({ inApp: false, email: 'instant' });
    expect((await putSettings(user, { comment_received: { inApp: true } })).json.data.comment_received).toEqual({ inApp: true, email: 'instant' });

    for (const [body, field] of [
      [{ stream_live: { email: 'weekly' } }, 'stream_live.email'],
      [{ stream_live: { email: true } }, 'stream_live.email'],
      [{ stream_live: { push: 'instant' } }, 'stream_live'],
      [{ spam: { email: 'off' } }, ''],
      // Moderation notices are owed: no setting for them.
      [{ appeal_outcome: { email: 'off' } }, ''],
    ] as const) {
      const res = await putSettings(user, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
      if (field) expect(res.json.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const after = (await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: user.auth })).json.data;
    expect(after).toEqual({ ...initial, comment_received: { inApp: true, email: 'instant' } });
    expect((await call(t.app, 'PUT', '/api/v1/notifications/settings', { body: {} })).status).toBe(401);
  });
});

describe('instant notification mail', { timeout: 180_000 }, () => {
  it('mails each notification of an instant type once, with a link and an unsubscribe link; nothing for a type that is off', () =>
    withWorkers(t.ctx, async () => {
      const wants = await verifiedUser();
      const doesNot = await verifiedUser();
      expect((await putSettings(wants, { comment_received: { email: 'instant' } })).status).toBe(200);

      const videoId = crypto.randomUUID();
      const comment = event('comment_received', 'Comment target', videoId);
      expect(await deliver(comment, [wants, doesNot])).toEqual({ sent: 1 });
      const [mail] = await untilMail(wants.email, 'New comment on Comment target');
      const message = await readMessage(mail!.ID);
      expect(message.Subject).toBe('StreamHub: New comment on Comment target');
      expect(message.Text).toContain(`New comment on Comment target: ${web().video(videoId)}`);
      expect(message.Text).toContain(`Change or turn off these emails: ${web().notificationSettings()}`);
      expect(message.HTML).toContain(`href="${web().video(videoId)}"`);
      expect((await headersOf(mail!.ID))['List-Unsubscribe']).toEqual([`<${web().notificationSettings()}>`]);
      // In the app both have it.
      const rows = await t.ctx.db.selectFrom('notifications').select('recipient_id').where('event_id', '=', comment.id).execute();
      expect(rows.map((r) => r.recipient_id).sort()).toEqual([wants.id, doesNot.id].sort());

      // A later mail to the one whose comments are off: only it arrives.
      const sentinel = event('tip_received', 'sentinel');
      expect(await deliver(sentinel, [doesNot])).toEqual({ sent: 1 });
      const toDoesNot = await untilMail(doesNot.email, 'You received a tip');
      expect(toDoesNot.map((m) => m.Subject)).toEqual(['StreamHub: You received a tip']);

      // The same event again (a re-run fan-out, then its mail workflow once more): no second mail.
      await t.ctx.temporal.client.workflow.execute<typeof fanoutWorkflow>('fanoutWorkflow', {
        workflowId: `fanout-rerun-${comment.id}`,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ event: comment, audience: { kind: 'users', userIds: [wants.id, doesNot.id] } }],
      });
      expect(
        await t.ctx.temporal.client.workflow.execute<typeof notificationEmailWorkflow>('notificationEmailWorkflow', {
          workflowId: `notification-email-rerun-${comment.id}`,
          taskQueue: t.ctx.config.temporal.taskQueue,
          args: [{ eventId: comment.id }],
        }),
      ).toEqual({ sent: 0 });
      const second = event('tip_received', 'sentinel 2');
      await deliver(second, [wants]);
      expect((await untilMail(wants.email, 'You received a tip')).map((m) => m.Subject).sort()).toEqual(['StreamHub: New comment on Comment target', 'StreamHub: You received a tip']);
    }));

  it('sends one mail when the send activity is retried after it sent (a lost completion)', async () => {
    const user = await verifiedUser();
    let failed = false;
    await withWorkers(
      t.ctx,
      async () => {
        const tip = event('tip_received', 'retried');
        expect(await deliver(tip, [user])).toEqual({ sent: 0 }); // the retry found it sent
        expect(failed).toBe(true);
        expect(await activityAttemptsOf(t.ctx.temporal.client.workflow.getHandle(workflowIds.notificationEmail(tip.id)), 'sendEmail')).toEqual([2]);
        const mails = await untilMail(user.email, 'You received a tip');
        expect(mails).toHaveLength(1);
        const outbox = await t.ctx.db.selectFrom('email_outbox').selectAll().where('user_id', '=', user.id).where('key', 'like', 'notification/%').execute();
        expect(outbox).toHaveLength(1);
        expect(`<${mails[0]!.MessageID}>`).toBe(outbox[0]!.message_id);
      },
      {
        wrap: (real) => ({
          async sendEmail(input) {
            const outbox = await t.ctx.db.selectFrom('email_outbox').select('key').where('id', '=', input.outboxId).executeTakeFirstOrThrow();
            const result = await real.sendEmail(input);
            if (outbox.key.startsWith('notification/') && !failed) {
              failed = true;
              throw new Error('worker lost before reporting the send');
            }
            return result;
          },
        }),
      },
    );
  });

  it('started inside the transaction that writes its notification (a tip’s booking), waits for the commit and then mails it', () =>
    withWorkers(t.ctx, async () => {
      const creator = await verifiedUser();
      const tip = event('tip_received', 'committed late');
      const mail = t.ctx.temporal.client.workflow.getHandle<typeof notificationEmailWorkflow>(workflowIds.notificationEmail(tip.id));
      await t.ctx.db.transaction().execute(async (trx) => {
        await insertNotifications(trx, tip, sql`select ${creator.id}::uuid as recipient_id`);
        await mailNotificationEvent(t.ctx.temporal, tip.id, { awaitNotifications: true });
        // Its first looks find nothing committed: it keeps trying, rather than finishing with nothing sent.
        await waitUntil(async () => {
          const pending = await pendingActivityOf(mail, 'queueInstantEmails');
          return pending && pending.attempt >= 2 && pending.lastFailure?.includes('not committed yet');
        }, 'the mail retrying until the notification is committed');
      });
      expect(await mail.result()).toEqual({ sent: 1 });
      expect((await untilMail(creator.email, 'You received a tip')).map((m) => m.Subject)).toEqual(['StreamHub: You received a tip']);
    }));

  it('mails nobody at an unverified address (the in-app notification is there); once verified, it does', () =>
    withWorkers(t.ctx, async () => {
      const user = await newUser(t.app);
      const tip = event('tip_received', 'unverified');
      expect(await deliver(tip, [user])).toEqual({ sent: 0 });
      expect(await t.ctx.db.selectFrom('notifications').select('id').where('event_id', '=', tip.id).where('recipient_id', '=', user.id).execute()).toHaveLength(1);
      await t.ctx.db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', user.id).execute();
      await deliver(event('subscription_received', 'sentinel'), [user]);
      expect((await untilMail(user.email, 'You have a new subscriber')).map((m) => m.Subject)).toEqual(['StreamHub: You have a new subscriber']);
    }));

  it('mails moderation notices whatever the settings say', () =>
    withWorkers(t.ctx, async () => {
      const user = await verifiedUser();
      const notice: NotificationEvent = { id: `appeal_outcome:test-${crypto.randomUUID()}`, type: 'appeal_outcome', actorId: null, entityType: 'moderation_case', entityId: 'x', payload: {} };
      await notifyRecipients(t.ctx.db, t.ctx.nats, t.ctx.temporal, notice, sql`select ${user.id}::uuid as recipient_id`);
      expect(await t.ctx.temporal.client.workflow.getHandle<typeof notificationEmailWorkflow>(workflowIds.notificationEmail(notice.id)).result()).toEqual({ sent: 1 });
      expect((await untilMail(user.email, 'Appeal outcome')).map((m) => m.Subject)).toEqual(['StreamHub: Appeal outcome']);
    }));
});

describe('daily digest', { timeout: 180_000 }, () => {
  it('groups a day into one mail, sends none on a second run that day, and mails what came after in the next day’s', () =>
    withWorkers(t.ctx, async () => {
      const user = await verifiedUser();
      const other = await verifiedUser(); // pages of 2 users: several pages
      const third = await verifiedUser();
      expect((await putSettings(user, { comment_received: { email: 'daily' }, new_follower: { email: 'off' } })).status).toBe(200);
      const first = [event('video_published', 'First video'), event('video_published', 'Second video'), event('comment_received', 'First video')];
      for (const e of first) await deliver(e, [user, other, third]);
      const skipped = event('new_follower', 'not mailed'); // set to off
      await deliver(skipped, [user]);
      const read = event('comment_reply', 'read already');
      await deliver(read, [user]);
      await t.ctx.db.updateTable('notifications').set({ read_at: new Date() }).where('event_id', '=', read.id).execute();

      const runAt = new Date();
      const run1 = await runDigest(runAt, 'day1');
      expect(run1.sent).toBe(3);
      const [digest] = await untilMail(user.email, 'your daily digest');
      const message = await readMessage(digest!.ID);
      expect(message.Subject).toBe('StreamHub: your daily digest (3 new notifications)');
      const lines = message.Text.split(/\r?\n/).filter((l) => l.startsWith('- '));
      expect(lines.sort()).toEqual(
        [`- New comment on First video: ${web().video(first[2]!.entityId)}`, `- New video: First video: ${web().video(first[0]!.entityId)}`, `- New video: Second video: ${web().video(first[1]!.entityId)}`].sort(),
      );
      const marked = await t.ctx.db.selectFrom('notifications').select(['event_id', 'digested_at']).where('recipient_id', '=', user.id).execute();
      expect(marked.filter((m) => m.digested_at).map((m) => m.event_id).sort()).toEqual(first.map((e) => e.id).sort());

      // Arrives after the run: a second run the same day mails nothing, the next day's has it.
      const later = event('video_published', 'Later video');
      await deliver(later, [user]);
      const sameDay = new Date();
      expect((await runDigest(sameDay, 'day1-again')).sent).toBe(0);
      const nextDay = new Date(sameDay.getTime() + 86_400_000);
      expect((await runDigest(nextDay, 'day2')).sent).toBe(1);
      const mails = await untilMail(user.email, '(1 new notification)');
      expect(mails.map((m) => m.Subject)).toEqual(['StreamHub: your daily digest (1 new notification)', 'StreamHub: your daily digest (3 new notifications)']);
      expect((await readMessage(mails[0]!.ID)).Text).toContain(`- New video: Later video: ${web().video(later.entityId)}`);
      expect((await runDigest(new Date(nextDay.getTime() + 1000), 'day2-again')).sent).toBe(0);
      expect(await t.ctx.db.selectFrom('email_outbox').select('key').where('user_id', '=', user.id).orderBy('key').execute()).toEqual([
        { key: `digest/${user.id}/${runAt.toISOString().slice(0, 10)}` },
        { key: `digest/${user.id}/${nextDay.toISOString().slice(0, 10)}` },
      ]);
    }));
});
