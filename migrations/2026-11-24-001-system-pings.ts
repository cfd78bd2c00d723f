import { sql, type Kysely } from 'kysely';

// Frozen in time: migrations never import application code and are never edited once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('system_pings')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('workflow_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('system_pings').execute();
}
