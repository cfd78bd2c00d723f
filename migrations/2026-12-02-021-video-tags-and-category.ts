import { sql, type Kysely } from 'kysely';

// What describes a video beyond its title: free tags (search weighs them, "up next" matches
// them) and one category, like a stream's, both set by the owner (PATCH /videos/{id}); and
// its counted views (maintained by the view counting of api/videos, read by sorts and
// trending). Bounds live in the table so no writer can store an oversized tag list or a
// negative count. Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('videos')
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`).check(sql`cardinality(tags) <= 20`))
    .addColumn('category_id', 'uuid', (c) => c.references('categories.id').onDelete('set null'))
    .addColumn('view_count', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`view_count >= 0`))
    .execute();
  await db.schema.createIndex('videos_category_idx').on('videos').column('category_id').where(sql.ref('category_id'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('videos').dropColumn('tags').dropColumn('category_id').dropColumn('view_count').execute();
}
