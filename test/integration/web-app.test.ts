import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { useTestContext } from '../support/context.ts';
import { newUser } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { call } from '../support/http.ts';

// The web app served same-origin by the API (a stand-in build in a scratch directory), and
// the `webUrl` links the API hands out into it.

const t = useTestContext();
const build = mkdtempSync(path.join(os.tmpdir(), 'web-build-'));
const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
let app: App;

beforeAll(() => {
  mkdirSync(path.join(build, 'assets'));
  writeFileSync(path.join(build, 'index.html'), '<!doctype html><meta name="streamhub-realtime-url" content="__REALTIME_URL__"><script type="module" src="/assets/index-Ab12Cd34.js"></script>');
  writeFileSync(path.join(build, 'assets/index-Ab12Cd34.js'), script);
  writeFileSync(path.join(build, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  app = createApp({
    ...t.ctx.apiDeps(),
    config: {
      ...t.ctx.config,
      webAppDir: build,
      publicUrls: { ...t.ctx.config.publicUrls, web: 'https://tv.example.com', realtime: 'wss://tv.example.com/ws', hls: 'https://tv.example.com/hls' },
      s3: { ...t.ctx.config.s3, publicEndpoint: 'https://s3.tv.example.com' },
    },
  });
});
afterAll(() => rmSync(build, { recursive: true, force: true }));

describe('the web app at /', () => {
  it('serves index.html for every page path, told where the socket is, under a strict policy', async () => {
    for (const page of ['/', '/videos/8d3c3f1e-0000-4000-8000-000000000000', '/@creator', '/upload?x=1', '/index.html']) {
      const res = await call(app, 'GET', page);
      expect(res.status, page).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.text).toContain('content="wss://tv.example.com/ws"');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain("connect-src 'self' wss://tv.example.com https://s3.tv.example.com https://tv.example.com;");
      expect(csp).toContain("frame-ancestors 'none'");
    }
  });

  it('serves hashed assets for a year, compressed when the browser accepts it, and revalidates the rest', async () => {
    const plain = await call(app, 'GET', '/assets/index-Ab12Cd34.js');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.text).toBe(script);
    const res = await app.request('/assets/index-Ab12Cd34.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await res.arrayBuffer())).toString()).toBe(script);
    const again = await call(app, 'GET', '/assets/index-Ab12Cd34.js', { headers: { 'if-none-match': plain.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const icon = await call(app, 'GET', '/favicon.svg');
    expect(icon.headers.get('cache-control')).toBe('public, max-age=3600');
    // A missing asset is a 404, never the page (a script tag must not get HTML).
    const missing = await call(app, 'GET', '/assets/index-gone.js');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
  });

  it('leaves the API, the reference, health and metrics to their own routes', async () => {
    const unknown = await call(app, 'GET', '/api/v1/no-such-route');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ success: false, error: { code: 'not_found' } });
    expect((await call(app, 'GET', '/api/v1/categories')).json.success).toBe(true);
    expect((await call(app, 'GET', '/health')).json).toHaveProperty('status');
    expect((await call(app, 'GET', '/docs')).text).toContain('/api/v1/openapi.json');
    expect((await call(app, 'GET', '/metrics')).status).toBe(401);
    expect([401, 404]).toContain((await call(app, 'GET', '/internal/nothing')).status);
    expect((await call(app, 'POST', '/')).status).toBe(404);
  });

  it('says how to build the app when there is no build', async () => {
    const bare = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, webAppDir: path.join(build, 'nothing-here') } });
    const res = await call(bare, 'GET', '/');
    expect(res.status).toBe(503);
    expect(res.text).toContain('npm run web:build');
  });
});

describe('webUrl', () => {
  it('links profiles, streams and videos to their pages in the web app', async () => {
    const user = await newUser(app);
    const profile = await call(app, 'GET', `/api/v1/users/${user.username}`);
    expect(profile.json.data.webUrl).toBe(`https://tv.example.com/@${user.username}`);
    const me = await call(app, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${user.accessToken}` } });
    expect(me.json.data.webUrl).toBe(`https://tv.example.com/@${user.username}`);

    const streamId = await insertStream(t.ctx, user.id);
    expect((await call(app, 'GET', `/api/v1/streams/${streamId}`)).json.data.webUrl).toBe(`https://tv.example.com/streams/${streamId}`);
    const live = await call(app, 'GET', '/api/v1/streams?status=live');
    expect(live.json.data.find((s: { id: string }) => s.id === streamId).webUrl).toBe(`https://tv.example.com/streams/${streamId}`);

    const created = await call(app, 'POST', '/api/v1/videos', { headers: { authorization: `Bearer ${user.accessToken}` }, body: { title: 'Linked' } });
    const videoId = created.json.data.video.id;
    expect(created.json.data.video.webUrl).toBe(`https://tv.example.com/videos/${videoId}`);
    const own = await call(app, 'GET', `/api/v1/videos/${videoId}`, { headers: { authorization: `Bearer ${user.accessToken}` } });
    expect(own.json.data.webUrl).toBe(`https://tv.example.com/videos/${videoId}`);
  });
});

describe('GET /videos', () => {
  it('lists public ready videos to everyone, and every video of their own to the owner', async () => {
    const owner = await newUser(app);
    const other = await newUser(app);
    const auth = (u: { accessToken: string }) => ({ authorization: `Bearer ${u.accessToken}` });
    const ids: string[] = [];
    for (const [title, visibility] of [['public one', 'public'], ['private one', 'private'], ['public two', 'public']] as const) {
      ids.push((await call(app, 'POST', '/api/v1/videos', { headers: auth(owner), body: { title, visibility } })).json.data.video.id);
    }
    // Two become ready; the second public one stays uploading.
    await t.ctx.db.updateTable('videos').set({ status: 'ready', ready_at: new Date() }).where('id', 'in', [ids[0]!, ids[1]!]).execute();

    const everyone = await call(app, 'GET', `/api/v1/videos?ownerId=${owner.id}`);
    expect(everyone.json.data.map((v: { title: string }) => v.title)).toEqual(['public one']);
    expect((await call(app, 'GET', `/api/v1/videos?ownerId=${owner.id}`, { headers: auth(other) })).json.data.map((v: { id: string }) => v.id)).toEqual([ids[0]]);

    const mine = await call(app, 'GET', `/api/v1/videos?ownerId=${owner.id}&limit=2`, { headers: auth(owner) });
    expect(mine.json.data.map((v: { title: string }) => v.title)).toEqual(['public two', 'private one']);
    const rest = await call(app, 'GET', `/api/v1/videos?ownerId=${owner.id}&limit=2&cursor=${mine.json.meta.nextCursor}`, { headers: auth(owner) });
    expect(rest.json.data.map((v: { title: string }) => v.title)).toEqual(['public one']);
    expect(rest.json.meta.nextCursor).toBeNull();

    const all = await call(app, 'GET', '/api/v1/videos?limit=100');
    expect(all.json.data.map((v: { id: string }) => v.id)).toContain(ids[0]);
    expect(all.json.data.map((v: { id: string }) => v.id)).not.toContain(ids[1]);
  });
});
