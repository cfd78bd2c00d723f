import { sql, type Kysely } from 'kysely';

// The moderation signal relay claims a batch of undelivered signals for a short lease instead
// of holding their row locks in a transaction while it calls Temporal once per signal (one
// slow Temporal call kept a transaction open for up to a hundred of them). A relay that dies
// mid-batch leaves rows whose lease simply runs out. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('moderation_signals').addColumn('claimed_until', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('moderation_signals').dropColumn('claimed_until').execute();
}
