import { sql, type Kysely } from 'kysely';

// Channel subscriptions (README "Subscriptions"). A subscription row is what the API and the
// perks read; its `subscription/<id>` workflow is the only writer of `status` once it exists.
// Each paid period is one `subscription_periods` row whose unique provider invoice id makes a
// duplicate or replayed `invoice.paid` book nothing twice; the number of paid periods of a
// (subscriber, channel) pair is the "months subscribed" a chat badge shows. Gifts are bought
// as one payment (kind `subscription_gift`) and become one subscription per recipient.
// Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  // Creators may rename their tiers; prices come from the platform's configuration.
  await db.schema
    .createTable('subscription_tier_names')
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('tier', 'smallint', (c) => c.notNull().check(sql`tier between 1 and 3`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 40`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('subscription_tier_names_pkey', ['channel_id', 'tier'])
    .execute();

  await db.schema
    .createTable('subscription_gifts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('giver_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('stream_id', 'uuid', (c) => c.references('streams.id'))
    .addColumn('tier', 'smallint', (c) => c.notNull().check(sql`tier between 1 and 3`))
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity between 1 and 100`))
    .addColumn('payment_id', 'uuid', (c) => c.unique().references('payments.id'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'paid', 'distributed', 'failed')`))
    // How many recipients were found when it was distributed (fewer than quantity when the room had fewer eligible viewers).
    .addColumn('distributed_count', 'integer', (c) => c.check(sql`distributed_count >= 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('subscription_gifts_not_self', sql`giver_id <> channel_id`)
    .execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('tier', 'smallint', (c) => c.notNull().check(sql`tier between 1 and 3`))
    // The price of one period when it was chosen (minor units); a later change of the platform's prices does not touch it.
    .addColumn('price', 'bigint', (c) => c.notNull().check(sql`price > 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('incomplete').check(sql`status in ('incomplete', 'active', 'past_due', 'lapsed', 'ended')`),
    )
    // Gifts do not renew; a subscriber's cancellation sets cancel_at_period_end instead.
    .addColumn('renews', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('cancel_at_period_end', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('current_period_start', 'timestamptz')
    .addColumn('current_period_end', 'timestamptz')
    .addColumn('past_due_since', 'timestamptz')
    .addColumn('gift_id', 'uuid', (c) => c.references('subscription_gifts.id'))
    .addColumn('provider_customer_id', 'text')
    .addColumn('provider_subscription_id', 'text')
    .addColumn('provider_client_secret', 'text')
    // Idempotency-Key of the request that created it (null for gifts), with a fingerprint of the body.
    .addColumn('idempotency_key', 'text')
    .addColumn('request_fingerprint', 'text')
    .addColumn('ended_reason', 'text', (c) =>
      c.check(sql`ended_reason in ('canceled', 'lapsed', 'gift_expired', 'incomplete_expired', 'provider_deleted', 'channel_closed')`),
    )
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('subscriptions_not_self', sql`subscriber_id <> channel_id`)
    .addCheckConstraint('subscriptions_gift_fields', sql`(gift_id is null) = renews`)
    .addCheckConstraint('subscriptions_period', sql`current_period_end is null or current_period_end > current_period_start`)
    .addCheckConstraint('subscriptions_ended_fields', sql`(status in ('lapsed', 'ended')) = (ended_at is not null)`)
    .execute();
  // One current subscription per (subscriber, channel): a second subscribe is answered with the first.
  await sql`create unique index subscriptions_current_pair_idx on subscriptions (subscriber_id, channel_id)
    where status in ('incomplete', 'active', 'past_due')`.execute(db);
  await sql`create unique index subscriptions_idempotency_idx on subscriptions (subscriber_id, idempotency_key) where idempotency_key is not null`.execute(
    db,
  );
  await sql`create unique index subscriptions_provider_idx on subscriptions (provider_subscription_id) where provider_subscription_id is not null`.execute(db);
  // A channel's subscribers by state (counts per tier, the subscriber list).
  await sql`create index subscriptions_channel_status_idx on subscriptions (channel_id, status, tier)`.execute(db);
  await sql`create index subscriptions_subscriber_idx on subscriptions (subscriber_id, created_at desc)`.execute(db);
  await sql`create index subscriptions_gift_idx on subscriptions (gift_id) where gift_id is not null`.execute(db);

  await db.schema
    .createTable('subscription_periods')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscription_id', 'uuid', (c) => c.notNull().references('subscriptions.id'))
    // Denormalised from the subscription so months subscribed is one index range per pair.
    .addColumn('subscriber_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('tier', 'smallint', (c) => c.notNull().check(sql`tier between 1 and 3`))
    // Stripe's invoice id (`in_…`); a gift's period is `gift:<subscription id>`.
    .addColumn('provider_invoice_id', 'text', (c) => c.notNull().unique())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz', (c) => c.notNull())
    // The revenue share's ledger entry (null for a gift: the gift's payment booked the money).
    .addColumn('entry_id', 'uuid', (c) => c.unique().references('ledger_entries.id'))
    .addColumn('paid_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('subscription_periods_order', sql`period_end > period_start`)
    .execute();
  await sql`create index subscription_periods_pair_idx on subscription_periods (subscriber_id, channel_id)`.execute(db);
  await sql`create index subscription_periods_subscription_idx on subscription_periods (subscription_id, period_start)`.execute(db);

  // Subscriber-only chat and videos.
  await sql`alter table streams drop constraint streams_chat_mode_check`.execute(db);
  await sql`alter table streams add constraint streams_chat_mode_check check (chat_mode in ('everyone', 'followers', 'subscribers'))`.execute(db);
  await sql`alter table videos drop constraint videos_visibility_check`.execute(db);
  await sql`alter table videos add constraint videos_visibility_check check (visibility in ('public', 'unlisted', 'private', 'subscribers'))`.execute(db);

  // A gift of subscriptions is paid like a tip: to a creator, from a live room or a channel page.
  await sql`alter table payments drop constraint payments_kind_check`.execute(db);
  await sql`alter table payments add constraint payments_kind_check check (kind in ('tip', 'coin_purchase', 'subscription_gift'))`.execute(db);
  await sql`alter table payments drop constraint payments_kind_fields`.execute(db);
  await sql`alter table payments add constraint payments_kind_fields check (
      (kind = 'tip' and creator_id is not null and num_nonnulls(stream_id, video_id) = 1 and coin_pack_id is null and coins is null)
   or (kind = 'coin_purchase' and coin_pack_id is not null and coins is not null and creator_id is null and stream_id is null and video_id is null)
   or (kind = 'subscription_gift' and creator_id is not null and video_id is null and coin_pack_id is null and coins is null))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table payments drop constraint payments_kind_fields`.execute(db);
  await sql`alter table payments add constraint payments_kind_fields check (
      (kind = 'tip' and creator_id is not null and num_nonnulls(stream_id, video_id) = 1 and coin_pack_id is null and coins is null)
   or (kind = 'coin_purchase' and coin_pack_id is not null and coins is not null and creator_id is null and stream_id is null and video_id is null))`.execute(db);
  await sql`alter table payments drop constraint payments_kind_check`.execute(db);
  await sql`alter table payments add constraint payments_kind_check check (kind in ('tip', 'coin_purchase'))`.execute(db);
  await sql`alter table videos drop constraint videos_visibility_check`.execute(db);
  await sql`alter table videos add constraint videos_visibility_check check (visibility in ('public', 'unlisted', 'private'))`.execute(db);
  await sql`alter table streams drop constraint streams_chat_mode_check`.execute(db);
  await sql`alter table streams add constraint streams_chat_mode_check check (chat_mode in ('everyone', 'followers'))`.execute(db);
  await db.schema.dropTable('subscription_periods').execute();
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('subscription_gifts').execute();
  await db.schema.dropTable('subscription_tier_names').execute();
}
