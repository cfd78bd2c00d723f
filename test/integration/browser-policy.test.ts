import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import type { Config } from '../../lib/config.ts';
import { useTestContext } from '../support/context.ts';
import { call } from '../support/http.ts';

// What browsers get from the API: CORS from the CORS_ORIGINS allow-list, security headers,
// players on any site reading playlists, and an API reference that needs nothing outside the stack.

const t = useTestContext();
const allowed = 'https://tv.example.com';
let app: App;

function appWith(overrides: Partial<Config> = {}): App {
  return createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, corsOrigins: [allowed], ...overrides } });
}

beforeAll(() => {
  app = appWith();
});

const preflight = (origin: string, path: string, method = 'GET', headers = 'authorization') =>
  call(app, 'OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

describe('CORS for the JSON API', () => {
  it('lets an allowed origin read answers, and tells any other origin nothing', async () => {
    const mine = await call(app, 'GET', '/api/v1/categories', { headers: { origin: allowed } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(mine.headers.get('access-control-expose-headers')).toBe('retry-after, x-request-id');
    expect(mine.headers.get('vary')).toContain('Origin');
    expect(mine.headers.get('access-control-allow-credentials')).toBeNull();

    for (const origin of ['https://evil.example', 'http://tv.example.com', 'null']) {
      const other = await call(app, 'GET', '/api/v1/categories', { headers: { origin } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('vary')).toContain('Origin');
    }
    // curl, OBS and servers send no Origin: no CORS headers, same answer.
    const plain = await call(app, 'GET', '/api/v1/categories');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers preflights for allowed origins only, before authentication', async () => {
    const ok = await preflight(allowed, '/api/v1/users/me', 'PATCH', 'authorization, content-type');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization, content-type, idempotency-key, x-request-id');
    expect(ok.headers.get('access-control-max-age')).toBe('600');

    const refused = await preflight('https://evil.example', '/api/v1/users/me', 'PATCH');
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('does not count preflights against the general rate limit', async () => {
    const strict = appWith({ rateLimits: { ...t.ctx.config.rateLimits, generalPerMinute: 1 } });
    for (let i = 0; i < 3; i++) {
      const res = await call(strict, 'OPTIONS', '/api/v1/categories', { headers: { origin: allowed, 'access-control-request-method': 'GET' } });
      expect(res.status).toBe(204);
    }
    expect((await call(strict, 'GET', '/api/v1/categories', { headers: { origin: allowed } })).status).toBe(200);
    const limited = await call(strict, 'GET', '/api/v1/categories', { headers: { origin: allowed } });
    expect(limited.status).toBe(429);
    // A refusal is readable by the page, so it can honour Retry-After.
    expect(limited.headers.get('access-control-allow-origin')).toBe(allowed);
  });

  it('lets web players on any site fetch and embed playlists and storyboards', async () => {
    const id = randomUUID();
    for (const path of [`/api/v1/videos/${id}/hls/master.m3u8`, `/api/v1/videos/${id}/hls/720p/index.m3u8`, `/api/v1/videos/${id}/storyboard.vtt`]) {
      const res = await call(app, 'GET', path, { headers: { origin: 'https://any-player.example' } });
      expect(res.status).toBe(404); // no such video; the headers are what this test is about
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      const pre = await preflight('https://any-player.example', path, 'GET', 'range');
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    }
  });
});

describe('security headers', () => {
  it('come with every API response, errors included', async () => {
    for (const path of ['/api/v1/categories', '/api/v1/no-such-route', '/health', '/docs']) {
      const res = await call(app, 'GET', path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000; includeSubDomains');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('API reference', () => {
  it('is served by the stack itself: /docs names no outside host and its script is here', async () => {
    const page = await call(app, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('/api/v1/openapi.json');
    expect([...page.text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1])).toEqual(['/docs/assets/api-reference.js']);
    expect(page.text).not.toMatch(/https?:\/\/|["'(]\/\//); // no absolute or protocol-relative URL at all

    const script = await call(app, 'GET', '/docs/assets/api-reference.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain('createApiReference');

    const zipped = await app.request('/docs/assets/api-reference.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString()).toBe(script.text);

    const cached = await call(app, 'GET', '/docs/assets/api-reference.js', { headers: { 'if-none-match': script.headers.get('etag')! } });
    expect(cached.status).toBe(304);
  });
});
