import { type Kysely } from 'kysely';

// When Stripe reported a payout failed after it had reported it paid: its own column, because
// `flagged_at` also marks items finance must look at for other reasons (late, unreversed), and
// only this fact lets finance record the money as returned. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payout_items').addColumn('stripe_failed_after_paid_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payout_items').dropColumn('stripe_failed_after_paid_at').execute();
}
