import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { DEMO_PASSWORD, seedDemoData } from '../../scripts/stack/seed.ts';
import { useTestContext } from '../support/context.ts';
import { insertVideo } from '../support/videos.ts';
import { call } from '../support/http.ts';

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
