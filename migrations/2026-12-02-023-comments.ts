import { sql, type Kysely } from 'kysely';

// Threaded comments on videos (api/comments): a top-level comment (depth 0), replies to it
// (depth 1) and replies to those (depth 2); `root_id` is the top-level comment of the thread so
// a reply's ancestors are known without a recursive query. Counters kept in the transaction
// that changes what they count: `videos.comment_count` (live comments, every depth),
// `comments.reply_count` (live replies anywhere below), `comments.like_count` (rows in
// comment_likes). Live = neither deleted by a person nor hidden by moderation. One pinned
// comment per video by a partial unique index. Moderation cases may now be about a comment.
// Frozen once landed.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('videos')
    .addColumn('comment_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`comment_count >= 0`))
    .execute();

  await db.schema
    .createTable('comments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('author_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('parent_id', 'uuid', (c) => c.references('comments.id').onDelete('cascade'))
    .addColumn('root_id', 'uuid', (c) => c.references('comments.id').onDelete('cascade'))
    .addColumn('depth', 'smallint', (c) => c.notNull().check(sql`depth between 0 and 2`))
    // Null once deleted: the words are gone, the place in the thread stays while it has replies.
    .addColumn('body', 'text', (c) => c.check(sql`char_length(body) between 1 and 2000`))
    .addColumn('like_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`like_count >= 0`))
    .addColumn('reply_count', 'integer', (c) => c.notNull().defaultTo(0).check(sql`reply_count >= 0`))
    .addColumn('pinned_at', 'timestamptz')
    .addColumn('idempotency_key', 'text')
    // What the keyed request asked for: the same key with another body, video or parent is refused.
    .addColumn('request_fingerprint', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('edited_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted_by', 'uuid')
    .addColumn('moderation_hidden_at', 'timestamptz')
    .addCheckConstraint('comments_shape', sql`(depth = 0) = (parent_id is null) and (depth = 0) = (root_id is null) and (depth <> 1 or parent_id = root_id)`)
    .addCheckConstraint('comments_pin_top_level', sql`pinned_at is null or depth = 0`)
    .addCheckConstraint('comments_body_until_deleted', sql`(body is null) = (deleted_at is not null)`)
    .execute();
  // Top-level lists: newest, and top (likes, then replies, then newest).
  await sql`create index comments_video_newest_idx on comments (video_id, created_at desc, id desc) where depth = 0`.execute(db);
  await sql`create index comments_video_top_idx on comments (video_id, like_count desc, reply_count desc, created_at desc, id desc) where depth = 0`.execute(db);
  // Replies of a comment, oldest first.
  await sql`create index comments_parent_idx on comments (parent_id, created_at, id) where parent_id is not null`.execute(db);
  await sql`create index comments_root_idx on comments (root_id) where root_id is not null`.execute(db);
  await sql`create index comments_author_idx on comments (author_id)`.execute(db);
  await sql`create unique index comments_one_pin_per_video on comments (video_id) where pinned_at is not null`.execute(db);
  await sql`create unique index comments_author_idempotency_key on comments (author_id, idempotency_key) where idempotency_key is not null`.execute(db);

  await db.schema
    .createTable('comment_likes')
    .addColumn('comment_id', 'uuid', (c) => c.notNull().references('comments.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('comment_likes_pkey', ['comment_id', 'user_id'])
    .execute();
  await db.schema.createIndex('comment_likes_user_idx').on('comment_likes').column('user_id').execute();

  await sql`alter table moderation_cases drop constraint moderation_cases_target_type_check`.execute(db);
  await sql`alter table moderation_cases add constraint moderation_cases_target_type_check check (target_type in ('stream', 'video', 'chat_message', 'user', 'comment'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table moderation_cases drop constraint moderation_cases_target_type_check`.execute(db);
  await sql`alter table moderation_cases add constraint moderation_cases_target_type_check check (target_type in ('stream', 'video', 'chat_message', 'user'))`.execute(db);
  await db.schema.dropTable('comment_likes').execute();
  await db.schema.dropTable('comments').execute();
  await db.schema.alterTable('videos').dropColumn('comment_count').execute();
}
