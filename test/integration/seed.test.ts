import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { DEMO_VIDEO_SECONDS, demoVideos, readyVideos, uploadDemoVideos, watchAndLike, type ApiCall, type DemoVideo } from '../../scripts/stack/demo-videos.ts';
import { DEMO_PASSWORD, seedDemoComments, seedDemoData, withDemoSessions } from '../../scripts/stack/seed.ts';
import { useTestContext } from '../support/context.ts';
import { insertVideo } from '../support/videos.ts';
import { call } from '../support/http.ts';
import { withWorkers } from '../support/workers.ts';

const t = useTestContext();

describe('demo seed', () => {
  it('is idempotent and its logins work with the printed password and roles', async () => {
    const first = await seedDemoData(t.ctx.config);
    const counts = async () => ({
      users: (await t.ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      categories: (await t.ctx.db.selectFrom('categories').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
      follows: (await t.ctx.db.selectFrom('follows').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
    });
    const before = await counts();
    await seedDemoData(t.ctx.config);
    expect(await counts()).toEqual(before);
    expect(before).toEqual({ users: first.length, categories: 6, follows: 3 });

    const app = createApp(t.ctx.apiDeps());
    const admin = await call(app, 'POST', '/api/v1/auth/login', { body: { login: 'admin', password: DEMO_PASSWORD } });
    expect(admin.json.data.user.role).toBe('admin');
    const creator = await call(app, 'GET', '/api/v1/users/creator');
    expect(creator.json.data).toMatchObject({ role: 'creator', followerCount: 3 });
  });

  it('seeds one comment thread on the demo creator’s newest public video, once', async () => {
    await seedDemoData(t.ctx.config);
    const creator = await t.ctx.db.selectFrom('users').select('id').where('username', '=', 'creator').executeTakeFirstOrThrow();
    const video = await insertVideo(t.ctx.db, creator.id);
    await seedDemoData(t.ctx.config);
    await seedDemoData(t.ctx.config);
    const rows = await t.ctx.db.selectFrom('comments').select(['depth', 'body']).where('video_id', '=', video).orderBy('created_at').execute();
    expect(rows.map((r) => r.depth)).toEqual([0, 1, 2, 0]);
    expect((await t.ctx.db.selectFrom('videos').select('comment_count').where('id', '=', video).executeTakeFirstOrThrow()).comment_count).toBe(4);
  });
});

describe('demo videos', () => {
  const small: DemoVideo = { ...demoVideos[0]!, picture: 'testsrc2=size=320x180:rate=15' };

  it('are uploaded through the API, transcoded, then watched, liked and commented by the demo viewers; a second start adds nothing', async () => {
    await seedDemoData(t.ctx.config);
    const app = createApp(t.ctx.apiDeps());
    const api: ApiCall = (method, path, init) => call(app, method, path, init);
    const { ready, again } = await withWorkers(t.ctx, () =>
      withDemoSessions(t.ctx.config, async (signIn) => {
        const creator = await signIn('creator');
        const started = await uploadDemoVideos(api, creator, [small]);
        expect(started).toHaveLength(1);
        const ready = await readyVideos(api, creator, started, 120_000);
        await watchAndLike(api, signIn, ready);
        await seedDemoComments(t.ctx.config);
        return { ready, again: await uploadDemoVideos(api, creator, [small]) };
      }),
    );
    expect(again).toEqual([]);
    expect(ready).toHaveLength(1);

    const video = (await call(app, 'GET', `/api/v1/videos/${ready[0]}`)).json.data;
    expect(video).toMatchObject({ title: small.title, visibility: 'public', status: 'ready', likeCount: 3, viewCount: 3, commentCount: 4, tags: small.tags });
    expect(video.category.slug).toBe(small.categorySlug);
    expect(video.durationSeconds).toBeCloseTo(DEMO_VIDEO_SECONDS, 0);
    const owned = await t.ctx.db.selectFrom('videos').select('id').where('title', '=', small.title).execute();
    expect(owned).toHaveLength(1);
  });
});
