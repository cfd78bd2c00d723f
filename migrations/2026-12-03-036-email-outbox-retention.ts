import { sql, type Kysely } from 'kysely';

// The daily retention run deletes outbox messages sent more than 30 days ago, in batches: an
// index on the send time keeps each batch from reading the whole outbox. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('email_outbox_sent_at_idx').on('email_outbox').column('sent_at').where(sql.ref('sent_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('email_outbox_sent_at_idx').execute();
}
