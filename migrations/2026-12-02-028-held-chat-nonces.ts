import { sql, type Kysely } from 'kysely';

// A held chat message is answered `message_held` and opens a case; a client that retries it
// with the same nonce (its socket dropped before the answer) must not open another. Each held
// message with a nonce claims its (stream, sender, nonce) here, in the transaction that files
// its case. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('held_chat_nonces')
    .addColumn('stream_id', 'uuid', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // sha256 of the client's nonce, as the gateway's nonce bucket keys it.
    .addColumn('nonce_hash', 'text', (c) => c.notNull())
    .addColumn('held_id', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('held_chat_nonces_pkey', ['stream_id', 'user_id', 'nonce_hash'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('held_chat_nonces').execute();
}
