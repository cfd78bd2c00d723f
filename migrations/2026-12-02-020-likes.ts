import { sql, type Kysely } from 'kysely';

// Likes on videos and live streams: one row per (target, user), and a counter on the target
// kept in the same transaction as the row it counts (see api/likes/service.ts). Two tables,
// not one polymorphic one, so each like has a foreign key to what it likes. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  for (const target of ['video', 'stream'] as const) {
    const table = `${target}s`;
    await db.schema
      .alterTable(table)
      .addColumn('like_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`like_count >= 0`))
      .execute();
    await db.schema
      .createTable(`${target}_likes`)
      .addColumn(`${target}_id`, 'uuid', (c) => c.notNull().references(`${table}.id`).onDelete('cascade'))
      .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint(`${target}_likes_pkey`, [`${target}_id`, 'user_id'])
      .execute();
    // A user's likes, newest first (a future "liked videos" list; also what a user's deletion cascades through).
    await db.schema.createIndex(`${target}_likes_user_created_idx`).on(`${target}_likes`).columns(['user_id', 'created_at']).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const target of ['video', 'stream'] as const) {
    await db.schema.dropTable(`${target}_likes`).execute();
    await db.schema.alterTable(`${target}s`).dropColumn('like_count').execute();
  }
}
