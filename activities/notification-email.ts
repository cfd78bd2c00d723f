import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db, Tx } from '../lib/db.ts';
import { messageIdFor } from '../lib/mail.ts';
import { defaultChannelRows, digestDay, digestEmail, instantNotificationEmail, type MailedNotification } from '../lib/notification-email.ts';
import type { EmailChannel, NotificationType } from '../lib/schema.ts';
import type { WebLinks } from '../lib/web-urls.ts';
import type { RenderedEmail } from '../lib/emails.ts';

export interface NotificationEmailDeps {
  db: Db;
  /** MAIL_FROM, whose domain the Message-IDs use. */
  from: string;
  web: WebLinks;
}

/** One page of a sweep: the outbox messages still to send, and where the next page starts (null: done). */
export interface QueuedPage {
  outboxIds: string[];
  next: string | null;
}

/** A recipient's channel for each notification's type: stored, else the type's default; mandatory types always mail. */
const channelOf = sql<EmailChannel>`case when d.mandatory then 'instant' else coalesce(s.email, d.channel) end`;

function defaultsTable() {
  const rows = defaultChannelRows().map((r) => sql`(${r.type}::text, ${r.channel}::text, ${r.mandatory}::boolean)`);
  return sql`(values ${sql.join(rows)}) as d(type, channel, mandatory)`;
}

async function writeOutbox(tx: Tx | Db, deps: NotificationEmailDeps, row: { key: string; userId: string; to: string; message: RenderedEmail }): Promise<string | null> {
  const id = randomUUID();
  const inserted = await tx
    .insertInto('email_outbox')
    .values({
      id,
      key: row.key,
      user_id: row.userId,
      to_address: row.to,
      subject: row.message.subject,
      text_body: row.message.text,
      html_body: row.message.html,
      message_id: messageIdFor(id, deps.from),
      list_unsubscribe: deps.web.notificationSettings(),
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id ?? null;
}

const toMailed = (r: { id: string; type: NotificationType; entity_type: string; entity_id: string; payload: Record<string, unknown>; created_at: Date }): MailedNotification => ({
  id: r.id,
  type: r.type,
  entityType: r.entity_type,
  entityId: r.entity_id,
  payload: r.payload,
  createdAt: r.created_at,
});

/** How long a mail started inside its notifications' transaction waits for that commit. */
const AWAIT_COMMIT_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * Started inside the transaction that writes the event's notifications (a tip's booking): until
 * that commits, this fails and the activity is retried. A transaction that never commits within a
 * day gives up; the starter's retry starts the mail anew once it does.
 */
async function untilNotificationsCommitted(db: Db, eventId: string): Promise<void> {
  const committed = await db.selectFrom('notifications').select('id').where('event_id', '=', eventId).limit(1).executeTakeFirst();
  if (committed) return;
  const waitedMs = Date.now() - Context.current().info.scheduledTimestampMs;
  if (waitedMs > AWAIT_COMMIT_FOR_MS) throw ApplicationFailure.nonRetryable(`No notifications of ${eventId} committed within a day`, 'NotificationsNeverCommitted');
  throw ApplicationFailure.retryable(`The notifications of ${eventId} are not committed yet`, 'NotificationsNotCommitted');
}

/**
 * Writes notification mail into the outbox; `sendEmail` (activities/email.ts) sends it. Every
 * message has a business key (`notification/<notificationId>`, `digest/<userId>/<day>`), so a
 * retried page or a re-run sweep writes nothing twice and hands back what is still unsent.
 */
export function createNotificationEmailActivities(deps: NotificationEmailDeps) {
  return {
    /**
     * One page (by recipient id) of an event's notifications: a message for each recipient
     * with a verified address whose channel for the type is `instant`.
     */
    async queueInstantEmails(input: { eventId: string; after: string | null; limit: number; awaitNotifications?: boolean }): Promise<QueuedPage> {
      if (input.awaitNotifications && input.after === null) await untilNotificationsCommitted(deps.db, input.eventId);
      const { rows } = await sql<{
        id: string;
        recipient_id: string;
        type: NotificationType;
        entity_type: string;
        entity_id: string;
        payload: Record<string, unknown>;
        created_at: Date;
        email: string;
        username: string;
        channel: EmailChannel;
      }>`
        select n.id, n.recipient_id, n.type, n.entity_type, n.entity_id, n.payload, n.created_at, u.email, u.username, ${channelOf} as channel
        from notifications n
        join users u on u.id = n.recipient_id and u.deleted_at is null and u.email_verified_at is not null
        join ${defaultsTable()} on d.type = n.type
        left join notification_settings s on s.user_id = n.recipient_id and s.type = n.type
        where n.event_id = ${input.eventId}
          ${input.after ? sql`and n.recipient_id > ${input.after}` : sql``}
        order by n.recipient_id
        limit ${input.limit}`.execute(deps.db);
      const keys: string[] = [];
      for (const r of rows) {
        if (r.channel !== 'instant') continue;
        const key = `notification/${r.id}`;
        keys.push(key);
        await writeOutbox(deps.db, deps, { key, userId: r.recipient_id, to: r.email, message: instantNotificationEmail({ username: r.username, notification: toMailed(r), web: deps.web }) });
      }
      const unsent = keys.length
        ? await deps.db.selectFrom('email_outbox').select('id').where('key', 'in', keys).where('sent_at', 'is', null).execute()
        : [];
      return { outboxIds: unsent.map((u) => u.id), next: rows.length < input.limit ? null : rows.at(-1)!.recipient_id };
    },

    /**
     * One page (by user id) of the digest run at `runAt`: for each user with unread,
     * undigested notifications created before `runAt` of types they get daily, one message,
     * and those notifications marked digested in the same transaction. A user who already
     * has the day's digest gets nothing more that day (what arrived since waits for the next).
     */
    async queueDigestPage(input: { runAt: string; after: string | null; limit: number }): Promise<QueuedPage> {
      const runAt = new Date(input.runAt);
      const undigested = (alias: string) => sql`
        ${sql.ref(`${alias}.read_at`)} is null and ${sql.ref(`${alias}.digested_at`)} is null
        and ${sql.ref(`${alias}.created_at`)} < ${runAt}`;
      const { rows: users } = await sql<{ recipient_id: string }>`
        select n.recipient_id
        from notifications n
        join users u on u.id = n.recipient_id and u.deleted_at is null and u.email_verified_at is not null
        join ${defaultsTable()} on d.type = n.type
        left join notification_settings s on s.user_id = n.recipient_id and s.type = n.type
        where ${undigested('n')} and ${channelOf} = 'daily'
          ${input.after ? sql`and n.recipient_id > ${input.after}` : sql``}
        group by n.recipient_id
        order by n.recipient_id
        limit ${input.limit}`.execute(deps.db);

      const day = digestDay(runAt);
      const outboxIds: string[] = [];
      for (const { recipient_id: userId } of users) {
        const key = `digest/${userId}/${day}`;
        const id = await deps.db.transaction().execute(async (tx) => {
          const existing = await tx.selectFrom('email_outbox').select(['id', 'sent_at']).where('key', '=', key).executeTakeFirst();
          if (existing) return existing.sent_at ? null : existing.id;
          const user = await tx.selectFrom('users').select(['email', 'username']).where('id', '=', userId).executeTakeFirstOrThrow();
          const { rows } = await sql<{ id: string; type: NotificationType; entity_type: string; entity_id: string; payload: Record<string, unknown>; created_at: Date }>`
            select n.id, n.type, n.entity_type, n.entity_id, n.payload, n.created_at
            from notifications n
            join ${defaultsTable()} on d.type = n.type
            left join notification_settings s on s.user_id = n.recipient_id and s.type = n.type
            where n.recipient_id = ${userId} and ${undigested('n')} and ${channelOf} = 'daily'
            for update of n`.execute(tx);
          if (!rows.length) return null;
          const outboxId = await writeOutbox(tx, deps, { key, userId, to: user.email, message: digestEmail({ username: user.username, notifications: rows.map(toMailed), web: deps.web }) });
          if (!outboxId) return null;
          await tx.updateTable('notifications').set({ digested_at: sql`now()` }).where('id', 'in', rows.map((r) => r.id)).execute();
          return outboxId;
        });
        if (id) outboxIds.push(id);
      }
      return { outboxIds, next: users.length < input.limit ? null : users.at(-1)!.recipient_id };
    },
  };
}

export type NotificationEmailActivities = ReturnType<typeof createNotificationEmailActivities>;
