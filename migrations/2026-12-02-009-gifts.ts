import { sql, type Kysely } from 'kysely';

// Gifts bought with coins during a live stream. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  // The catalog, managed by admins. A gift is never deleted (sends point at it): it is deactivated.
  await db.schema
    .createTable('gifts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (c) => c.notNull().unique().check(sql`slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('coins', 'bigint', (c) => c.notNull().check(sql`coins > 0`))
    .addColumn('image_url', 'text')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // A starter catalog, so a new deployment can take gifts before an admin has designed its own.
  await db
    .insertInto('gifts')
    .values([
      { slug: 'heart', name: 'Heart', coins: 1, sort_order: 10 },
      { slug: 'rose', name: 'Rose', coins: 10, sort_order: 20 },
      { slug: 'star', name: 'Star', coins: 50, sort_order: 30 },
      { slug: 'cake', name: 'Cake', coins: 100, sort_order: 40 },
      { slug: 'rocket', name: 'Rocket', coins: 500, sort_order: 50 },
    ])
    .execute();

  // One row per accepted send. The sender's idempotency key claims the row in the statement
  // that posts its entry, so a retry finds it instead of paying twice.
  // No foreign keys to the stream, the creator or the gift: each would take a share lock on
  // that row for every send, and a popular stream or gift would become a row every send waits
  // on (multixacts; measured 2.5× fewer gifts per second, see bench/ledger). The send is written
  // only after reading all three, and none is ever deleted (gifts are retired, users soft-deleted).
  await db.schema
    .createTable('gift_sends')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('sender_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('stream_id', 'uuid', (c) => c.notNull())
    .addColumn('creator_id', 'uuid', (c) => c.notNull())
    .addColumn('gift_id', 'uuid', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity between 1 and 100`))
    // What the send cost at the gift's price then (a later price change does not rewrite it).
    .addColumn('coins', 'bigint', (c) => c.notNull().check(sql`coins > 0`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // A digest of what was asked (stream, gift, quantity): the same key with another request is refused.
    .addColumn('request_fingerprint', 'text', (c) => c.notNull())
    .addColumn('entry_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('gift_sends_sender_key', ['sender_id', 'idempotency_key'])
    .addCheckConstraint('gift_sends_not_to_self', sql`sender_id <> creator_id`)
    .execute();
  // Written in the same statement as its entry, whose id it already names.
  await sql`alter table gift_sends add constraint gift_sends_entry_fkey foreign key (entry_id)
    references ledger_entries (id) deferrable initially deferred`.execute(db);

  // Running totals per (broadcast, sender), kept in the send's statement: the leaderboard is
  // one index range instead of a sum over every send of the broadcast. (No key to streams, as above.)
  await db.schema
    .createTable('stream_gift_totals')
    .addColumn('stream_id', 'uuid', (c) => c.notNull())
    .addColumn('sender_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('coins', 'bigint', (c) => c.notNull().check(sql`coins > 0`))
    .addColumn('gifts', 'integer', (c) => c.notNull())
    // When the sender reached this total: of two equal totals, the one reached first ranks higher.
    .addColumn('reached_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_gift_totals_pkey', ['stream_id', 'sender_id'])
    .execute();
  await sql`create index stream_gift_totals_rank_idx on stream_gift_totals (stream_id, coins desc, reached_at, sender_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_gift_totals').execute();
  await db.schema.dropTable('gift_sends').execute();
  await db.schema.dropTable('gifts').execute();
}
