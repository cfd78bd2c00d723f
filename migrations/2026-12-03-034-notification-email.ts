import { sql, type Kysely } from 'kysely';

// Notification email (README, "Notification email"): a per-type email channel next to the
// in-app one (null follows the type's default), when each notification went into a daily
// digest, and the List-Unsubscribe header of outbox messages that have one. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('notification_settings')
    .addColumn('email', 'text', (c) => c.check(sql`email in ('off', 'instant', 'daily')`))
    .execute();
  await db.schema.alterTable('notifications').addColumn('digested_at', 'timestamptz').execute();
  // The digest pages over recipients with unread, undigested notifications.
  await sql`create index notifications_undigested_idx on notifications (recipient_id, created_at) where read_at is null and digested_at is null`.execute(db);
  await db.schema.alterTable('email_outbox').addColumn('list_unsubscribe', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('email_outbox').dropColumn('list_unsubscribe').execute();
  await sql`drop index notifications_undigested_idx`.execute(db);
  await db.schema.alterTable('notifications').dropColumn('digested_at').execute();
  await db.schema.alterTable('notification_settings').dropColumn('email').execute();
}
