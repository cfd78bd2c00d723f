import { sql, type Kysely } from 'kysely';

// In-app notifications (one per recipient and event, whatever the retries) and per-type
// settings. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('recipient_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('read_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Event first: a fan-out batch reads back its own rows by (event, recipient range).
    .addUniqueConstraint('notifications_event_recipient_key', ['event_id', 'recipient_id'])
    .execute();
  await db.schema
    .createIndex('notifications_recipient_created_idx')
    .on('notifications')
    .columns(['recipient_id', 'created_at desc', 'id desc'])
    .execute();
  // Deleting a user sets actor_id to null on everything they caused; without this index
  // every such delete scans the whole table.
  await db.schema.createIndex('notifications_actor_idx').on('notifications').column('actor_id').where('actor_id', 'is not', null).execute();
  await sql`create index notifications_unread_idx on notifications (recipient_id) where read_at is null`.execute(db);
  await sql`create index notifications_read_at_idx on notifications (read_at) where read_at is not null`.execute(db);

  await db.schema
    .createTable('notification_settings')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('in_app', 'boolean', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('notification_settings_pkey', ['user_id', 'type'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_settings').execute();
  await db.schema.dropTable('notifications').execute();
}
