import { sql, type Kysely } from 'kysely';

// Verified payment-provider webhook events, each stored once, then applied by the workflow
// `payment-event/<provider>/<event id>`. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payment_events')
    .addColumn('provider', 'text', (c) => c.notNull().check(sql`provider in ('stripe')`))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    // When the provider created the event: deliveries may arrive out of order.
    .addColumn('provider_created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('applied_at', 'timestamptz')
    .addPrimaryKeyConstraint('payment_events_pkey', ['provider', 'event_id'])
    .execute();
  // What an operator looks for: events received but not (yet) applied.
  await db.schema
    .createIndex('payment_events_unapplied_idx')
    .on('payment_events')
    .column('received_at')
    .where(sql.ref('applied_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_events').execute();
}
