import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig, processEnv } from '../../lib/config.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, setStatus, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { insertVideo } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Threaded comments on videos (README "Comments"): two levels of replies, edit, delete that
// keeps a thread's shape, one pin per video, newest/top sorts, exact counts under
// concurrency, visibility, roles, the per-user limit, idempotent posts, notifications and
// removal by a moderation decision.

const t = useTestApp();

interface CommentView {
  id: string;
  parentId: string | null;
  rootId: string | null;
  depth: number;
  body: string | null;
  deleted: boolean;
  author: { id: string; username: string } | null;
  edited: boolean;
  editedAt: string | null;
  pinned: boolean;
  likeCount: number;
  likedByMe: boolean | null;
  replyCount: number;
}

const post = (videoId: string, user: TestUser | undefined, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call(t.app, 'POST', `/api/v1/videos/${videoId}/comments`, { headers: { ...user?.auth, ...headers }, body });
async function comment(videoId: string, user: TestUser, body: string, parentId?: string): Promise<CommentView> {
  const res = await post(videoId, user, { body, ...(parentId ? { parentId } : {}) });
  expect(res.status, res.text).toBe(201);
  return res.json.data;
}
const list = (videoId: string, user?: TestUser, query = '') => call(t.app, 'GET', `/api/v1/videos/${videoId}/comments${query}`, { headers: user?.auth ?? {} });
const replies = (id: string, user?: TestUser, query = '') => call(t.app, 'GET', `/api/v1/comments/${id}/replies${query}`, { headers: user?.auth ?? {} });
const send = (method: string, path: string, user?: TestUser, body?: unknown) => call(t.app, method, `/api/v1/comments/${path}`, { headers: user?.auth ?? {}, body });
const bodies = (res: { json: { data: CommentView[] } }) => res.json.data.map((c) => c.body);

/** Every page of a list, following `nextCursor`. */
async function walk(fetchPage: (cursor: string | null) => Promise<{ json: { data: CommentView[]; meta: { nextCursor: string | null } } }>): Promise<CommentView[]> {
  const seen: CommentView[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetchPage(cursor);
    seen.push(...res.json.data);
    cursor = res.json.meta.nextCursor;
  } while (cursor);
  return seen;
}

/** What the counters say, next to what the rows say. */
async function counts(videoId: string) {
  const db = t.ctx.db;
  const video = await db.selectFrom('videos').select('comment_count').where('id', '=', videoId).executeTakeFirstOrThrow();
  const live = await db.selectFrom('comments').select((eb) => eb.fn.countAll<string>().as('n')).where('video_id', '=', videoId).where('deleted_at', 'is', null).where('moderation_hidden_at', 'is', null).executeTakeFirstOrThrow();
  const rows = await db.selectFrom('comments').select(['id', 'parent_id', 'root_id', 'reply_count', 'like_count', 'deleted_at', 'moderation_hidden_at']).where('video_id', '=', videoId).execute();
  const isLive = (r: (typeof rows)[number]) => r.deleted_at === null && r.moderation_hidden_at === null;
  const likes = await db.selectFrom('comment_likes').innerJoin('comments', 'comments.id', 'comment_likes.comment_id').select('comment_id').where('video_id', '=', videoId).execute();
  const wrongReplies = rows.filter((r) => r.reply_count !== rows.filter((x) => isLive(x) && (x.parent_id === r.id || x.root_id === r.id)).length);
  const wrongLikes = rows.filter((r) => r.like_count !== likes.filter((l) => l.comment_id === r.id).length);
  return { counter: video.comment_count, live: Number(live.n), wrongReplies: wrongReplies.length, wrongLikes: wrongLikes.length };
}

describe('comments', () => {
  it('threads two levels deep: a reply to a depth-2 reply joins that reply’s parent', async () => {
    const [owner, a, b, c] = [await newUser(t.app), await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    const video = await insertVideo(t.ctx.db, owner.id);
    const top = await comment(video, a, '  First!  ');
    expect(top).toMatchObject({ depth: 0, parentId: null, rootId: null, body: 'First!', author: { id: a.id, username: a.username }, deleted: false, edited: false, pinned: false, replyCount: 0, likeCount: 0, likedByMe: false });
    const reply = await comment(video, b, 'depth one', top.id);
    expect(reply).toMatchObject({ depth: 1, parentId: top.id, rootId: top.id });
    const deep = await comment(video, c, 'depth two', reply.id);
    expect(deep).toMatchObject({ depth: 2, parentId: reply.id, rootId: top.id });
    // The boundary: answering a depth-2 reply makes a sibling of it, not depth 3.
    const answer = await comment(video, a, 'still depth two', deep.id);
    expect(answer).toMatchObject({ depth: 2, parentId: reply.id, rootId: top.id });

    expect(bodies(await list(video))).toEqual(['First!']);
    expect((await list(video)).json.data[0]).toMatchObject({ replyCount: 3, likedByMe: null });
    expect((await list(video)).json.meta.commentCount).toBe(4);
    expect((await call(t.app, 'GET', `/api/v1/videos/${video}`)).json.data.commentCount).toBe(4);
    expect(bodies(await replies(top.id))).toEqual(['depth one']);
    expect((await replies(top.id)).json.data[0].replyCount).toBe(2);
    expect(bodies(await replies(reply.id))).toEqual(['depth two', 'still depth two']);
    expect(bodies(await replies(deep.id))).toEqual([]);

    // Replies page oldest first without repeats.
    const paged = await walk((cursor) => replies(reply.id, undefined, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`));
    expect(paged.map((r) => r.body)).toEqual(['depth two', 'still depth two']);

    // A parent on another video, or none at all: 404, nothing written.
    const other = await insertVideo(t.ctx.db, owner.id);
    for (const parentId of [top.id, randomUUID()]) {
      const res = await post(other, a, { body: 'lost', parentId });
      expect(res.status).toBe(404);
    }
    expect(await counts(other)).toEqual({ counter: 0, live: 0, wrongReplies: 0, wrongLikes: 0 });
    expect(await counts(video)).toEqual({ counter: 4, live: 4, wrongReplies: 0, wrongLikes: 0 });
  });

  it('edits are the author’s and marked; deletes keep a thread’s shape while replies live', async () => {
    const [owner, author, replier, stranger, mod, admin] = (await Promise.all(Array.from({ length: 6 }, () => newUser(t.app)))) as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    await setRole(t.ctx.db, mod.id, 'moderator');
    await setRole(t.ctx.db, admin.id, 'admin');
    const video = await insertVideo(t.ctx.db, owner.id);
    const top = await comment(video, author, 'original');

    for (const who of [owner, stranger, mod]) expect((await send('PATCH', top.id, who, { body: 'not mine' })).status).toBe(403);
    const edited = await send('PATCH', top.id, author, { body: ' changed ' });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.json.data).toMatchObject({ body: 'changed', edited: true });
    expect(Date.parse(edited.json.data.editedAt)).toBeGreaterThan(0);
    expect((await send('PATCH', top.id, author, { body: '   ' })).status).toBe(400);

    const middle = await comment(video, replier, 'middle', top.id);
    const leafA = await comment(video, author, 'leaf a', middle.id);
    const leafB = await comment(video, replier, 'leaf b', middle.id);
    expect((await send('DELETE', middle.id, stranger)).status).toBe(403);

    // The video's owner deletes the middle reply: it keeps its place, without words or author.
    const deleted = await send('DELETE', middle.id, owner);
    expect(deleted.status, deleted.text).toBe(200);
    const listed = (await replies(top.id)).json.data;
    expect(listed).toEqual([expect.objectContaining({ id: middle.id, deleted: true, body: null, author: null, replyCount: 2 })]);
    expect((await list(video)).json.data[0].replyCount).toBe(2);
    expect((await list(video)).json.meta.commentCount).toBe(3);
    // No reply to what is gone, no edit of it, no second delete.
    const refused = await post(video, author, { body: 'to nobody', parentId: middle.id });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({ code: 'unprocessable', details: { reason: 'parent_removed' } });
    expect((await send('PATCH', middle.id, replier, { body: 'back' })).status).toBe(404);
    expect((await send('DELETE', middle.id, replier)).status).toBe(404);

    // Its author deletes a leaf with no replies: gone from the list; a moderator the other.
    expect((await send('DELETE', leafA.id, author)).status).toBe(200);
    expect(bodies(await replies(middle.id))).toEqual(['leaf b']);
    expect((await send('DELETE', leafB.id, mod)).status).toBe(200);
    // Nothing below the middle reply lives now: it leaves the list too.
    expect((await replies(middle.id)).json.data).toEqual([]);
    expect((await replies(top.id)).json.data).toEqual([]);
    expect((await list(video)).json.data[0]).toMatchObject({ body: 'changed', replyCount: 0 });
    // An admin deletes the top-level comment: the video has no comments left.
    expect((await send('DELETE', top.id, admin)).status).toBe(200);
    expect((await list(video)).json).toMatchObject({ data: [], meta: { commentCount: 0 } });
    expect(await counts(video)).toEqual({ counter: 0, live: 0, wrongReplies: 0, wrongLikes: 0 });
  });

  it('pins one top-level comment per video, the owner’s choice, shown first and never repeated', async () => {
    const [owner, fan, other] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    const video = await insertVideo(t.ctx.db, owner.id);
    const made: CommentView[] = [];
    for (let i = 0; i < 5; i++) made.push(await comment(video, i % 2 ? fan : other, `c${i}`));
    const reply = await comment(video, fan, 'a reply', made[0]!.id);

    expect((await send('PUT', `${made[1]!.id}/pin`, fan)).status).toBe(403);
    const onReply = await send('PUT', `${reply.id}/pin`, owner);
    expect(onReply.status).toBe(422);
    expect(onReply.json.error.details).toEqual({ reason: 'not_top_level' });

    expect((await send('PUT', `${made[1]!.id}/pin`, owner)).json.data.pinned).toBe(true);
    expect(bodies(await list(video))).toEqual(['c1', 'c4', 'c3', 'c2', 'c0']);
    // Pages: the pinned one first on the first page only (in addition to `limit`), never again.
    const first = await list(video, undefined, '?limit=2');
    expect(bodies(first)).toEqual(['c1', 'c4', 'c3']);
    const all = await walk((cursor) => list(video, undefined, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
    expect(all.map((c) => c.body)).toEqual(['c1', 'c4', 'c3', 'c2', 'c0']);

    // Racing pins of four comments: exactly one ends pinned.
    const racing = await Promise.all(made.slice(0, 4).map((c) => send('PUT', `${c.id}/pin`, owner)));
    expect(racing.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const pinned = await t.ctx.db.selectFrom('comments').select('id').where('video_id', '=', video).where('pinned_at', 'is not', null).execute();
    expect(pinned).toHaveLength(1);
    expect(bodies(await list(video))[0]).toBe(made.find((c) => c.id === pinned[0]!.id)!.body);

    // Unpinned: back in its place. Deleting a pinned comment unpins it.
    expect((await send('DELETE', `${pinned[0]!.id}/pin`, owner)).json.data.pinned).toBe(false);
    expect(bodies(await list(video))).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);
    await send('PUT', `${made[2]!.id}/pin`, owner);
    await send('DELETE', made[2]!.id, other);
    expect(await t.ctx.db.selectFrom('comments').select('id').where('video_id', '=', video).where('pinned_at', 'is not', null).execute()).toEqual([]);
  });

  it('sorts newest and top exactly (likes, then replies, then newest), one like per user', async () => {
    const owner = await newUser(t.app);
    const fans = await Promise.all(Array.from({ length: 3 }, () => newUser(t.app)));
    const video = await insertVideo(t.ctx.db, owner.id);
    const made: CommentView[] = [];
    for (let i = 0; i < 6; i++) made.push(await comment(video, fans[i % 3]!, `c${i}`));
    const likes: Record<number, TestUser[]> = { 1: fans, 2: fans, 3: [fans[0]!], 5: [fans[1]!] };
    for (const [i, who] of Object.entries(likes)) for (const fan of who) expect((await send('PUT', `${made[Number(i)]!.id}/like`, fan)).status).toBe(200);
    // Liking twice is one like; unliking what you never liked is fine.
    expect((await send('PUT', `${made[1]!.id}/like`, fans[0])).json.data).toEqual({ liked: true, likeCount: 3 });
    expect((await send('DELETE', `${made[4]!.id}/like`, fans[0])).json.data).toEqual({ liked: false, likeCount: 0 });
    await comment(video, owner, 'reply lifts c2', made[2]!.id);
    await comment(video, owner, 'reply lifts c0', made[0]!.id);

    // top: c2 (3 likes, 1 reply), c1 (3, 0), c5 (1, newer), c3 (1), c0 (0 likes, 1 reply), c4 (0, 0).
    const top = ['c2', 'c1', 'c5', 'c3', 'c0', 'c4'];
    expect(bodies(await list(video, undefined, '?sort=top'))).toEqual(top);
    expect(bodies(await list(video))).toEqual(['c5', 'c4', 'c3', 'c2', 'c1', 'c0']);
    for (const sort of ['top', 'newest']) {
      const paged = await walk((cursor) => list(video, undefined, `?sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(paged.map((c) => c.body)).toEqual(sort === 'top' ? top : ['c5', 'c4', 'c3', 'c2', 'c1', 'c0']);
    }
    expect((await list(video, fans[0], '?sort=top')).json.data.map((c: CommentView) => c.likedByMe)).toEqual([true, true, false, true, false, false]);
    expect((await list(video, undefined, '?cursor=nonsense')).status).toBe(400);
    expect(await counts(video)).toEqual({ counter: 8, live: 8, wrongReplies: 0, wrongLikes: 0 });
  });

  it('keeps every count exact when many post, reply, like and delete at once', async () => {
    const owner = await newUser(t.app);
    const users = await Promise.all(Array.from({ length: 30 }, () => newUser(t.app)));
    const video = await insertVideo(t.ctx.db, owner.id);
    const top = await comment(video, owner, 'the thread');
    const middle = await comment(video, owner, 'the middle', top.id);

    const posted = await Promise.all(users.map((u, i) => post(video, u, { body: `from ${i}`, ...(i % 3 === 1 ? { parentId: top.id } : i % 3 === 2 ? { parentId: middle.id } : {}) })));
    expect(posted.map((r) => r.status)).toEqual(Array(30).fill(201));
    expect((await list(video)).json.meta.commentCount).toBe(32);
    expect((await list(video)).json.data.find((c: CommentView) => c.id === top.id).replyCount).toBe(21);

    // Likes, unlikes and deletes racing each other on the same thread.
    const ids = posted.map((r) => r.json.data.id as string);
    const raced = await Promise.all([
      ...users.map((u) => send('PUT', `${middle.id}/like`, u)),
      ...users.slice(0, 10).map((u) => send('DELETE', `${middle.id}/like`, u)),
      ...users.slice(0, 12).map((u, i) => send('DELETE', ids[i]!, u)),
      ...users.slice(12, 18).map((u) => post(video, u, { body: 'late reply', parentId: middle.id })),
    ]);
    expect(raced.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    const after = await counts(video);
    expect(after).toEqual({ counter: 32 - 12 + 6, live: 32 - 12 + 6, wrongReplies: 0, wrongLikes: 0 });
    expect((await list(video)).json.meta.commentCount).toBe(26);
  });

  it('shows and takes comments only where the caller may see the video', async () => {
    const [owner, viewer] = [await newUser(t.app), await newUser(t.app)];
    const hiddenOnes = [
      await insertVideo(t.ctx.db, owner.id, { visibility: 'private' }),
      await insertVideo(t.ctx.db, owner.id, { status: 'processing' }),
      await insertVideo(t.ctx.db, owner.id, { hidden: true }),
      await insertVideo(t.ctx.db, owner.id, { deleted: true }),
      randomUUID(),
    ];
    for (const id of hiddenOnes) {
      expect((await list(id, viewer)).status, id).toBe(404);
      expect((await post(id, viewer, { body: 'hi' })).status, id).toBe(404);
    }
    // The owner comments on their private video; others do not even see the comment exists.
    const own = await comment(hiddenOnes[0]!, owner, 'note to self');
    for (const [method, path, body] of [
      ['GET', `${own.id}/replies`, undefined],
      ['PATCH', own.id, { body: 'x' }],
      ['DELETE', own.id, undefined],
      ['PUT', `${own.id}/like`, undefined],
      ['PUT', `${own.id}/pin`, undefined],
    ] as const) {
      const res = await send(method, path, viewer, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe('not_found');
    }
    // An unlisted video takes comments by its link.
    const unlisted = await insertVideo(t.ctx.db, owner.id, { visibility: 'unlisted' });
    await comment(unlisted, viewer, 'found it by the link');

    // Anonymous: reading yes, writing 401. Suspended: 403.
    const video = await insertVideo(t.ctx.db, owner.id);
    const c = await comment(video, viewer, 'hello');
    expect((await list(video)).status).toBe(200);
    expect((await post(video, undefined, { body: 'anon' })).status).toBe(401);
    for (const [method, path] of [['PATCH', c.id], ['DELETE', c.id], ['PUT', `${c.id}/pin`], ['PUT', `${c.id}/like`]] as const) {
      expect((await send(method, path, undefined, method === 'PATCH' ? { body: 'x' } : undefined)).status).toBe(401);
    }
    const suspended = await newUser(t.app);
    await setStatus(t.ctx.db, suspended.id, 'suspended', new Date(Date.now() + 3_600_000));
    expect((await post(video, suspended, { body: 'let me' })).status).toBe(403);

    // 1–2000 characters after trimming, counted as people count them (an emoji is one).
    // A fresh author: every attempt counts against the per-user limit, refused ones too.
    const writer = await newUser(t.app);
    expect((await post(video, writer, { body: ' \n\t ' })).status).toBe(400);
    expect((await post(video, writer, { body: 'x'.repeat(2001) })).status).toBe(400);
    expect((await post(video, writer, { body: `  ${'x'.repeat(2000)}  ` })).status).toBe(201);
    expect((await post(video, writer, { body: '😀'.repeat(2000) })).status).toBe(201);
    expect((await post(video, writer, { body: '😀'.repeat(2001) })).status).toBe(400);
    expect((await post(video, writer, { body: 'x', extra: true })).status).toBe(400);
  });

  it('allows 10 comments a minute per user, then 429 naming the rule', async () => {
    // The default a deployment gets (README: 10), not whatever this run's environment sets.
    const { commentsPerMinute } = parseConfig({ ...processEnv(), RATE_LIMIT_COMMENTS_PER_MINUTE: undefined }).rateLimits;
    expect(commentsPerMinute).toBe(10);
    const owner = await newUser(t.app);
    const video = await insertVideo(t.ctx.db, owner.id);
    const top = await comment(video, owner, 'replies count too');
    const { statuses, refused, user } = await inOneWindow(t.ctx.db, 60, async () => {
      const user = await newUser(t.app);
      const statuses = [];
      // The first is refused (empty) and still counts.
      for (let i = 0; i < 10; i++) statuses.push((await post(video, user, { body: i === 0 ? '  ' : `n${i}`, ...(i % 2 ? { parentId: top.id } : {}) })).status);
      return { statuses, refused: await post(video, user, { body: 'one too many' }), user };
    });
    expect(statuses).toEqual([400, ...Array(9).fill(201)]);
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'comments' } });
    // Editing is not posting; another user is unaffected.
    const mine = (await list(video, user)).json.data.find((c: CommentView) => c.author?.id === user.id);
    expect((await send('PATCH', mine.id, user, { body: 'edited' })).status).toBe(200);
    expect((await post(video, await newUser(t.app), { body: 'fresh' })).status).toBe(201);
    const after = await counts(video);
    expect(after.counter).toBe(after.live);
  });

  it('posts once per Idempotency-Key, however often and however concurrently it is sent', async () => {
    const [owner, fan] = [await newUser(t.app), await newUser(t.app)];
    const video = await insertVideo(t.ctx.db, owner.id);
    const key = { 'idempotency-key': randomUUID() };
    const first = await post(video, fan, { body: 'once' }, key);
    expect(first.status).toBe(201);
    const again = await post(video, fan, { body: 'once' }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.data.id).toBe(first.json.data.id);
    const reused = await post(video, fan, { body: 'something else' }, key);
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('idempotency_key_reused');

    const racingKey = { 'idempotency-key': randomUUID() };
    const racing = await Promise.all(Array.from({ length: 4 }, () => post(video, fan, { body: 'racing', parentId: first.json.data.id }, racingKey)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(racing.map((r) => r.json.data.id)).size).toBe(1);
    // Keys are per author: another user's same key is their own comment.
    expect((await post(video, owner, { body: 'once' }, key)).status).toBe(201);
    expect(await counts(video)).toEqual({ counter: 3, live: 3, wrongReplies: 0, wrongLikes: 0 });
  });

  it('notifies the video’s owner of new comments and authors of replies, never themselves', { timeout: 120_000 }, async () => {
    const [owner, fan, friend] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    const video = await insertVideo(t.ctx.db, owner.id, { title: 'Notify me' });
    const of = (user: TestUser) =>
      t.ctx.db.selectFrom('notifications').select(['type', 'actor_id', 'entity_type', 'entity_id', 'payload']).where('recipient_id', '=', user.id).orderBy('created_at').execute();
    await withWorkers(
      t.ctx,
      async () => {
        await comment(video, owner, 'my own: nobody told');
        const top = await comment(video, fan, 'great video');
        const reply = await comment(video, friend, 'agreed', top.id);
        await comment(video, fan, 'answering my answerer', reply.id);
        await comment(video, friend, 'talking to myself', reply.id);
        await waitUntil(async () => (await of(owner)).length === 1 && (await of(fan)).length === 1 && (await of(friend)).length === 1, 'three notifications');
        expect(await of(owner)).toEqual([
          { type: 'comment_received', actor_id: fan.id, entity_type: 'video', entity_id: video, payload: { title: 'Notify me', commentId: top.id, excerpt: 'great video' } },
        ]);
        expect(await of(fan)).toEqual([
          { type: 'comment_reply', actor_id: friend.id, entity_type: 'video', entity_id: video, payload: { title: 'Notify me', commentId: reply.id, parentId: top.id, excerpt: 'agreed' } },
        ]);
        expect(await of(friend)).toMatchObject([{ type: 'comment_reply', actor_id: fan.id, payload: { parentId: reply.id, excerpt: 'answering my answerer' } }]);
      },
      { media: false },
    );
    // Each type has a setting like every optional notification.
    const settings = await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: owner.auth });
    expect(settings.json.data).toMatchObject({ comment_received: { inApp: true }, comment_reply: { inApp: true } });
  });

  it('a reported comment is removed by a moderation decision, leaving the counts', { timeout: 120_000 }, async () => {
    const [owner, troll, reporter, mod] = (await Promise.all(Array.from({ length: 4 }, () => newUser(t.app)))) as [TestUser, TestUser, TestUser, TestUser];
    await setRole(t.ctx.db, mod.id, 'moderator');
    const video = await insertVideo(t.ctx.db, owner.id);
    const top = await comment(video, owner, 'welcome');
    const bad = await comment(video, troll, 'buy followers here', top.id);
    await withWorkers(
      t.ctx,
      async () => {
        const filed = await call(t.app, 'POST', '/api/v1/reports', { headers: reporter.auth, body: { targetType: 'comment', targetId: bad.id, reason: 'spam' } });
        expect(filed.status, filed.text).toBe(201);
        const caseId = filed.json.data.caseId as string;
        expect(caseId).toMatch(/^comment-/);
        expect((await call(t.app, 'POST', '/api/v1/reports', { headers: troll.auth, body: { targetType: 'comment', targetId: bad.id, reason: 'spam' } })).status).toBe(403);
        expect((await call(t.app, 'POST', `/api/v1/moderation/cases/${caseId}/claim`, { headers: mod.auth })).status).toBe(200);
        const decided = await call(t.app, 'POST', `/api/v1/moderation/cases/${caseId}/decision`, { headers: mod.auth, body: { action: 'remove_content', rule: 'spam' } });
        expect(decided.status, decided.text).toBe(200);
        await waitUntil(async () => (await replies(top.id)).json.data.length === 0, 'the comment removed');
        const detail = await call(t.app, 'GET', `/api/v1/moderation/cases/${caseId}`, { headers: mod.auth });
        expect(detail.json.data.snapshot).toMatchObject({ body: 'buy followers here', videoId: video });
      },
      { media: false },
    );
    expect((await list(video)).json.data[0]).toMatchObject({ id: top.id, replyCount: 0 });
    expect((await list(video)).json.meta.commentCount).toBe(1);
    // Gone for its author too: no edit, no like, no reply; reporting it again finds nothing.
    expect((await send('PATCH', bad.id, troll, { body: 'sorry' })).status).toBe(404);
    expect((await send('PUT', `${bad.id}/like`, owner)).status).toBe(404);
    expect((await post(video, owner, { body: 'to it', parentId: bad.id })).status).toBe(422);
    expect(await counts(video)).toEqual({ counter: 1, live: 1, wrongReplies: 0, wrongLikes: 0 });
  });

  it('documents the comment routes in the OpenAPI document', async () => {
    const doc = (await call(t.app, 'GET', '/api/v1/openapi.json')).json;
    const expected: Record<string, string[]> = {
      '/api/v1/videos/{id}/comments': ['get', 'post'],
      '/api/v1/comments/{id}/replies': ['get'],
      '/api/v1/comments/{id}': ['patch', 'delete'],
      '/api/v1/comments/{id}/pin': ['put', 'delete'],
      '/api/v1/comments/{id}/like': ['put', 'delete'],
    };
    for (const [path, methods] of Object.entries(expected)) for (const method of methods) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/videos/{id}/comments'].post.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '404', '409', '422', '429']));
    expect(doc.components.schemas.Video.properties).toHaveProperty('commentCount');
    expect(doc.components.schemas.Comment.properties).toHaveProperty('replyCount');
  });
});
