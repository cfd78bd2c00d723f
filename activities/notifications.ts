import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import { insertNotifications, pushNotifications, type NotificationEvent } from '../lib/notifications.ts';
import type { Notification } from '../lib/schema.ts';

/**
 * Notification delivery for the fan-out workflow. Every write is idempotent per
 * (event, recipient): a retried or replayed batch inserts nothing twice. Pushes are
 * at-least-once (a retry re-publishes the batch's rows); clients de-duplicate by id.
 */
export function createNotificationActivities(deps: { db: Db; nats: Nats }) {
  /** Reads back the event's rows for these recipients (new or from an earlier attempt) and pushes them. */
  async function publish(eventId: string, recipients: { after: string | null; upTo: string } | { userIds: string[] }): Promise<number> {
    let query = deps.db
      .selectFrom('notifications')
      .select(['id', 'recipient_id', 'type', 'actor_id', 'entity_type', 'entity_id', 'payload', 'read_at', 'created_at'])
      .where('event_id', '=', eventId);
    if ('userIds' in recipients) query = query.where('recipient_id', 'in', recipients.userIds);
    else {
      query = query.where('recipient_id', '<=', recipients.upTo);
      if (recipients.after) query = query.where('recipient_id', '>', recipients.after);
    }
    const rows = await query.execute();
    await pushNotifications(deps.nats, rows);
    return rows.length;
  }

  return {
    /**
     * Upper bounds (inclusive follower ids) of the next pages of a user's followers after
     * `after`, each `pageSize` long, at most `maxPages`. An index-only scan of one range.
     */
    async planFollowerPages(input: { followeeId: string; after: string | null; pageSize: number; maxPages: number }): Promise<string[]> {
      const { rows } = await sql<{ follower_id: string }>`
        select follower_id from (
          select follower_id, row_number() over (order by follower_id) as rn, count(*) over () as total
          from (
            select follower_id from follows
            where followee_id = ${input.followeeId}
              ${input.after ? sql`and follower_id > ${input.after}` : sql``}
            order by follower_id
            limit ${input.pageSize * input.maxPages}
          ) window_rows
        ) numbered
        where rn % ${input.pageSize} = 0 or rn = total
        order by follower_id`.execute(deps.db);
      return rows.map((r) => r.follower_id);
    },

    /** One page of followers (after, upTo] who asked to be notified, then pushes. */
    async deliverToFollowerPage(input: { event: NotificationEvent; followeeId: string; after: string | null; upTo: string }): Promise<number> {
      await insertNotifications(
        deps.db,
        input.event,
        sql`select follower_id as recipient_id from follows
            where followee_id = ${input.followeeId}
              ${input.after ? sql`and follower_id > ${input.after}` : sql``}
              and follower_id <= ${input.upTo}
              and notify`,
      );
      return publish(input.event.id, { after: input.after, upTo: input.upTo });
    },

    /** An explicit list of recipients (one user for "new follower"; later: donations, moderation outcomes). */
    async deliverToUsers(input: { event: NotificationEvent; userIds: string[] }): Promise<number> {
      if (!input.userIds.length) return 0;
      await insertNotifications(deps.db, input.event, sql`select distinct unnest(${input.userIds}::uuid[]) as recipient_id`);
      return publish(input.event.id, { userIds: input.userIds });
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
