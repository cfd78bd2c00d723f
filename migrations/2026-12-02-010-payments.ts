import { sql, type Kysely } from 'kysely';

// Money coming in through the payment provider: coin packs for sale, payments (tips and coin
// purchases) and the disputes raised against them. What a payment books lives in the ledger;
// these rows say what was asked, what the provider told us, and how much of it has been
// reversed so far (so each refund or dispute books only its own part). Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('coin_packs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (c) => c.notNull().unique().check(sql`slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`))
    .addColumn('coins', 'bigint', (c) => c.notNull().check(sql`coins > 0`))
    .addColumn('price_minor', 'bigint', (c) => c.notNull().check(sql`price_minor > 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Priced at 1.4¢ a coin: above the coins' creator value (1¢ by default) plus the provider's fee.
  await db
    .insertInto('coin_packs')
    .values([
      { slug: 'coins-100', coins: 100, price_minor: 140, currency: 'USD', sort: 10 },
      { slug: 'coins-500', coins: 500, price_minor: 700, currency: 'USD', sort: 20 },
      { slug: 'coins-1000', coins: 1000, price_minor: 1400, currency: 'USD', sort: 30 },
      { slug: 'coins-5000', coins: 5000, price_minor: 7000, currency: 'USD', sort: 40 },
    ])
    .execute();

  await db.schema
    .createTable('payments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('tip', 'coin_purchase')`))
    .addColumn('payer_id', 'uuid', (c) => c.notNull().references('users.id'))
    // Tips: whom, and on what (exactly one of stream and video).
    .addColumn('creator_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('stream_id', 'uuid', (c) => c.references('streams.id'))
    .addColumn('video_id', 'uuid', (c) => c.references('videos.id'))
    // Coin purchases: the pack, and its coins at the time (a later change of the pack does not rewrite it).
    .addColumn('coin_pack_id', 'uuid', (c) => c.references('coin_packs.id'))
    .addColumn('coins', 'bigint', (c) => c.check(sql`coins > 0`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('message', 'text', (c) => c.check(sql`char_length(message) <= 200`))
    .addColumn('anonymous', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('requires_payment')
        .check(sql`status in ('requires_payment', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'disputed')`),
    )
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo('stripe').check(sql`provider in ('stripe')`))
    .addColumn('provider_payment_intent_id', 'text')
    // Stripe.js needs it to confirm the payment; kept so a retried request gets the same one.
    .addColumn('provider_client_secret', 'text')
    .addColumn('provider_charge_id', 'text')
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // A digest of what was asked: the same key with another request is refused.
    .addColumn('request_fingerprint', 'text', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    // The money arrived but did not match what was asked (amount, currency): it is not booked,
    // and an operator refunds it. Its later refunds and disputes book nothing either.
    .addColumn('booking_refused', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('succeeded_entry_id', 'uuid', (c) => c.unique().references('ledger_entries.id'))
    // What the success booked that a reversal takes back in proportion: the creator's share of
    // a tip (minor units), or the coins of a purchase; and for coins, the creator value of one.
    .addColumn('booked_share', 'bigint', (c) => c.check(sql`booked_share >= 0`))
    .addColumn('booked_coin_value', 'bigint', (c) => c.check(sql`booked_coin_value >= 0`))
    // The provider's cumulative refunded amount as far as it has been booked.
    .addColumn('refunded_amount', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`refunded_amount >= 0`))
    // Refunds and open or lost disputes booked against the payment, and the share they took back.
    .addColumn('reversed_amount', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`reversed_amount >= 0 and reversed_amount <= amount`))
    .addColumn('reversed_share', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`reversed_share >= 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('succeeded_at', 'timestamptz')
    .addUniqueConstraint('payments_payer_key', ['payer_id', 'idempotency_key'])
    .addCheckConstraint(
      'payments_kind_fields',
      sql`(kind = 'tip' and creator_id is not null and num_nonnulls(stream_id, video_id) = 1 and coin_pack_id is null and coins is null)
       or (kind = 'coin_purchase' and coin_pack_id is not null and coins is not null and creator_id is null and stream_id is null and video_id is null)`,
    )
    .addCheckConstraint('payments_not_to_self', sql`creator_id is null or creator_id <> payer_id`)
    .execute();
  // Events about charges and disputes name the provider's ids, not ours.
  await sql`create index payments_payment_intent_idx on payments (provider_payment_intent_id) where provider_payment_intent_id is not null`.execute(db);
  await sql`create index payments_charge_idx on payments (provider_charge_id) where provider_charge_id is not null`.execute(db);
  await sql`create index payments_payer_idx on payments (payer_id, created_at desc)`.execute(db);

  await db.schema
    .createTable('payment_disputes')
    .addColumn('payment_id', 'uuid', (c) => c.notNull().references('payments.id'))
    .addColumn('provider_dispute_id', 'text', (c) => c.notNull())
    // `inquiry`: a question from the bank that moved no money; `open`: funds withdrawn.
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('inquiry', 'inquiry_closed', 'open', 'won', 'lost')`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('fee', 'bigint', (c) => c.notNull().check(sql`fee >= 0`))
    // The part of `amount` reversed against the payment, the share that took back (the rest
    // of the amount had been refunded already and is a loss), and the entries.
    .addColumn('covered_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('covered_share', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('entry_id', 'uuid', (c) => c.references('ledger_entries.id'))
    .addColumn('reversal_entry_id', 'uuid', (c) => c.references('ledger_entries.id'))
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addPrimaryKeyConstraint('payment_disputes_pkey', ['payment_id', 'provider_dispute_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_disputes').execute();
  await db.schema.dropTable('payments').execute();
  await db.schema.dropTable('coin_packs').execute();
}
