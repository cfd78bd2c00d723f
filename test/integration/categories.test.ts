import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

let ctx: TestContext;
let app: App;
let admin: TestUser;
let viewer: TestUser;
beforeAll(async () => {
  ctx = await createTestContext();
  app = createApp(ctx.apiDeps());
  admin = await newUser(app);
  await setRole(ctx.db, admin.id, 'admin');
  viewer = await newUser(app);
});
afterAll(() => ctx?.cleanup());

const create = (body: unknown, headers = admin.auth) => call(app, 'POST', '/api/v1/categories', { headers, body });

describe('categories', () => {
  it('lets an admin create one, deriving the slug, and lists it publicly', async () => {
    const res = await create({ name: 'Just Chatting!', tags: ['talk'] });
    expect(res.status).toBe(201);
    expect(res.json.data).toMatchObject({ name: 'Just Chatting!', slug: 'just-chatting', tags: ['talk'], isActive: true });
    const list = await call(app, 'GET', '/api/v1/categories');
    expect(list.json.data.map((c: { slug: string }) => c.slug)).toContain('just-chatting');
  });

  it('refuses a duplicate slug with 409', async () => {
    await create({ name: 'Retro', slug: 'retro' });
    const dup = await create({ name: 'Retro Games', slug: 'retro' });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toMatchObject({ code: 'conflict', details: [{ field: 'slug' }] });
  });

  it('lets only admins create or change one: every other role 403 forbidden, anonymous 401, nothing written', async () => {
    const existing = (await create({ name: 'Guarded' })).json.data;
    const refusals: [string, Record<string, string>, number, string][] = [];
    for (const role of ['viewer', 'creator', 'moderator', 'finance'] as const) {
      const user = await newUser(app);
      await setRole(ctx.db, user.id, role);
      refusals.push([role, user.auth, 403, 'forbidden']);
    }
    refusals.push(['anonymous', {}, 401, 'unauthorized']);
    for (const [who, headers, status, code] of refusals) {
      const created = await call(app, 'POST', '/api/v1/categories', { headers, body: { name: `Nope ${who}` } });
      const patched = await call(app, 'PATCH', `/api/v1/categories/${existing.id}`, { headers, body: { name: `Taken by ${who}` } });
      for (const res of [created, patched]) {
        expect(res.status, who).toBe(status);
        expect(res.json.error.code, who).toBe(code);
      }
    }
    const names = (await ctx.db.selectFrom('categories').select('name').execute()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith('Nope ') || n.startsWith('Taken by '))).toEqual([]);
    expect(names).toContain('Guarded');
    // Reading stays public.
    expect((await call(app, 'GET', '/api/v1/categories')).status).toBe(200);
  });

  it('takes the admin rights away on the next request when an admin is demoted', async () => {
    const user = await newUser(app);
    await setRole(ctx.db, user.id, 'admin');
    expect((await create({ name: 'Before Demotion' }, user.auth)).status).toBe(201);
    await setRole(ctx.db, user.id, 'moderator');
    const after = await create({ name: 'After Demotion' }, user.auth);
    expect(after.status).toBe(403);
    expect(after.json.error.code).toBe('forbidden');
  });

  it('follows a role change at once, without a new token', async () => {
    const user = await newUser(app);
    expect((await create({ name: 'Promoted One' }, user.auth)).status).toBe(403);
    await setRole(ctx.db, user.id, 'admin');
    expect((await create({ name: 'Promoted One' }, user.auth)).status).toBe(201);
  });

  it('hides deactivated categories and 404s unknown ones', async () => {
    const created = (await create({ name: 'Ephemeral' })).json.data;
    const res = await call(app, 'PATCH', `/api/v1/categories/${created.id}`, { headers: admin.auth, body: { isActive: false } });
    expect(res.json.data.isActive).toBe(false);
    const list = await call(app, 'GET', '/api/v1/categories?limit=100');
    expect(list.json.data.map((c: { id: string }) => c.id)).not.toContain(created.id);
    const missing = await call(app, 'PATCH', `/api/v1/categories/${crypto.randomUUID()}`, { headers: admin.auth, body: { name: 'x' } });
    expect(missing.status).toBe(404);
  });

  it('keeps SQL metacharacters verbatim and pages by slug', async () => {
    const name = `Rock'n'Roll; DROP TABLE categories;--`;
    const res = await create({ name, slug: 'zz-rock', description: `100% "fun" \\o/` });
    expect(res.json.data).toMatchObject({ name, description: `100% "fun" \\o/` });
    const slugs: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(app, 'GET', `/api/v1/categories?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      slugs.push(...page.json.data.map((c: { slug: string }) => c.slug));
      cursor = page.json.meta.nextCursor;
    } while (cursor);
    expect(slugs).toEqual([...slugs].sort());
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toContain('zz-rock');
  });
});
