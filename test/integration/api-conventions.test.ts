import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context.ts';
import { insertCategories, insertFollowees, insertFollowers, insertNotifications, newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestApp();

describe('API conventions', () => {
  it('answers unknown routes with 404 in the error envelope', async () => {
    const res = await call(t.app, 'GET', '/api/v1/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ success: false, error: { code: 'not_found', message: 'No route for GET /api/v1/does-not-exist' } });
  });

  it('gives every response a request id, reusing a sane incoming one', async () => {
    const fresh = await call(t.app, 'GET', '/api/v1/nothing');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await call(t.app, 'GET', '/api/v1/nothing', { headers: { 'x-request-id': 'proxy-abc.123' } });
    expect(kept.headers.get('x-request-id')).toBe('proxy-abc.123');
    const replaced = await call(t.app, 'GET', '/api/v1/nothing', { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('bad');
  });

  it('reads a body of exactly 1 MiB and refuses one byte more with 413, declared or streamed', async () => {
    const ONE_MIB = 1_048_576; // README: payload_too_large 413 for bodies over 1 MiB
    const headers = { 'x-internal-secret': t.ctx.config.internalSecret };
    const bodyOf = (bytes: number) => {
      const json = `{"pingId":"${'x'.repeat(bytes - 13)}"}`;
      expect(Buffer.byteLength(json)).toBe(bytes);
      return json;
    };
    for (const declared of [true, false]) {
      const send = (body: string) =>
        call(t.app, 'POST', '/internal/ping', { body, headers: declared ? { ...headers, 'content-length': String(body.length) } : headers });
      const atLimit = await send(bodyOf(ONE_MIB));
      // Read and validated (a 1 MiB pingId is no uuid), not refused for its size.
      expect(atLimit.status, `declared: ${declared}`).toBe(400);
      expect(atLimit.json.error.code).toBe('validation_failed');
      const over = await send(bodyOf(ONE_MIB + 1));
      expect(over.status, `declared: ${declared}`).toBe(413);
      expect(over.json).toEqual({ success: false, error: { code: 'payload_too_large', message: expect.any(String) } });
    }
  });

  it('rejects malformed JSON and invalid fields with 400 naming the field', async () => {
    const headers = { 'x-internal-secret': t.ctx.config.internalSecret };
    const malformed = await call(t.app, 'POST', '/internal/ping', { body: '{"pingId": ', headers });
    expect(malformed.status).toBe(400);
    expect(malformed.json.success).toBe(false);
    const invalid = await call(t.app, 'POST', '/internal/ping', { body: { pingId: 'not-a-uuid' }, headers });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('validation_failed');
    expect(invalid.json.error.details).toEqual([expect.objectContaining({ field: 'pingId' })]);
  });

  it('names every invalid field in details, not just the first', async () => {
    const res = await call(t.app, 'POST', '/api/v1/auth/register', { body: { email: 'not-an-email', username: 'x', password: 'short' } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'password', 'username']);
  });

  it('refuses internal routes without the shared secret', async () => {
    for (const headers of [{}, { 'x-internal-secret': 'wrong' }] as Record<string, string>[]) {
      const res = await call(t.app, 'POST', '/internal/ping', { body: {}, headers });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
    }
  });

  it('publishes an OpenAPI 3.1 document and an interactive reference', async () => {
    const doc = await call(t.app, 'GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.1.0');
    expect(doc.json.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.json.paths['/api/v1/auth/logout'].post.security).toEqual([{ bearerAuth: [] }]);
    const docs = await call(t.app, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/api/v1/openapi.json');
  });

  it('documents every route the app serves, and nothing it does not', async () => {
    // Routes deliberately left out of the document, each with the reason.
    const undocumented: Record<string, string> = {
      'GET /api/v1/openapi.json': 'the document itself',
      'GET /docs': 'the interactive reference (HTML) rendered from the document',
      'GET /docs/assets/api-reference.js': "the reference's script, served by the API so /docs works offline",
      'GET /metrics': 'Prometheus text exposition for the scraper, not part of the JSON API',
      'GET /*': 'the web app (HTML, its scripts and styles), not part of the JSON API',
      'HEAD /*': 'the web app, as GET',
      'POST /internal/rtmp/publish': 'nginx-rtmp hook: form body and ?secret=, never public (Caddy answers 404)',
      'POST /internal/rtmp/publish-done': 'nginx-rtmp hook: form body and ?secret=, never public (Caddy answers 404)',
      'POST /internal/rtmp/record-done': 'nginx-rtmp hook: form body and ?secret=, never public (Caddy answers 404)',
      'GET /internal/hls-access': 'nginx auth_request for live HLS: 204 or 403 on the X-Original-URI, never public (Caddy answers 404)',
    };
    // app.use() middleware is registered with method ALL; route-level middleware repeats its route.
    const served = new Set(
      t.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    const doc = (await call(t.app, 'GET', '/api/v1/openapi.json')).json;
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((m) => methods.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(new Set(documented).size).toBe(documented.length);
    expect(documented.sort()).toEqual([...served].filter((route) => !(route in undocumented)).sort());
    expect(Object.keys(undocumented).filter((route) => !served.has(route))).toEqual([]);
  });

  it('exports request metrics by matched route for Prometheus', async () => {
    await call(t.app, 'GET', '/health');
    const res = await call(t.app, 'GET', '/metrics', { headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` } });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/streamhub_http_requests_total\{method="GET",route="\/health",status="200",service="api"\} \d+/);
    expect(res.text).toContain('streamhub_http_request_duration_seconds_bucket');
    expect(res.text).toContain('process_cpu_seconds_total');
  });
});

/**
 * Every keyset list of these resources, each able to add rows to itself: `path` lists them,
 * `add(n)` inserts n new ones and returns their ids.
 */
interface ListUnderTest {
  name: string;
  path: string;
  headers?: Record<string, string>;
  add(count: number): Promise<string[]>;
}

async function lists(): Promise<ListUnderTest[]> {
  const star = await newUser(t.app);
  const fan = await newUser(t.app);
  const reader: TestUser = await newUser(t.app);
  return [
    { name: 'followers', path: `/api/v1/users/${star.id}/followers`, add: (n) => insertFollowers(t.ctx.db, star.id, n) },
    { name: 'following', path: `/api/v1/users/${fan.id}/following`, add: (n) => insertFollowees(t.ctx.db, fan.id, n) },
    { name: 'notifications', path: '/api/v1/notifications', headers: reader.auth, add: (n) => insertNotifications(t.ctx.db, reader.id, n) },
    // Categories are one global list: each file has its own database, and only this test adds any.
    { name: 'categories', path: '/api/v1/categories', add: (n) => insertCategories(t.ctx.db, n) },
  ];
}

const getPage = (list: ListUnderTest, query: string) => call(t.app, 'GET', `${list.path}?${query}`, { headers: list.headers });
const ids = (res: { json: { data: { id: string }[] } }) => res.json.data.map((item) => item.id);

async function readAll(list: ListUnderTest): Promise<string[]> {
  const all: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await getPage(list, `limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    all.push(...ids(res));
    cursor = res.json.meta.nextCursor;
  } while (cursor);
  return all;
}

describe('lists', () => {
  it('page 20 by default and take limit 1 to 100; 0 and 101 are refused with 400 naming limit', async () => {
    for (const list of await lists()) {
      const existing = await list.add(101);
      const first = await getPage(list, '');
      expect(first.status, list.name).toBe(200);
      expect(first.json.data, list.name).toHaveLength(20);
      expect(first.json.meta.limit, list.name).toBe(20);
      expect(first.json.meta.nextCursor, list.name).toEqual(expect.any(String));

      const one = await getPage(list, 'limit=1');
      expect(one.json.data, list.name).toHaveLength(1);
      expect(one.json.meta.limit).toBe(1);

      const hundred = await getPage(list, 'limit=100');
      expect(hundred.json.data, list.name).toHaveLength(100);
      expect(hundred.json.meta.limit).toBe(100);
      const rest = await getPage(list, `limit=100&cursor=${hundred.json.meta.nextCursor}`);
      expect(rest.json.data, list.name).toHaveLength(1);
      expect(rest.json.meta.nextCursor, list.name).toBeNull();
      expect(new Set([...ids(hundred), ...ids(rest)]), list.name).toEqual(new Set(existing));

      for (const limit of ['0', '101']) {
        const refused = await getPage(list, `limit=${limit}`);
        expect(refused.status, `${list.name} limit=${limit}`).toBe(400);
        expect(refused.json.error.code).toBe('validation_failed');
        expect(refused.json.error.details.map((d: { field: string }) => d.field)).toEqual(['limit']);
      }
    }
  });

  it('stay stable under concurrent inserts: no repeats, and nothing that existed before the first page is missed', async () => {
    for (const list of await lists()) {
      await list.add(40);
      // Everything the list holds now (for categories also the rows of the test above).
      const before = await readAll(list);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        // New rows land while each page is read (and between pages).
        const query: string = `limit=7${cursor ? `&cursor=${cursor}` : ''}`;
        const [res] = await Promise.all([getPage(list, query), list.add(3)]);
        expect(res.status, list.name).toBe(200);
        seen.push(...ids(res));
        cursor = res.json.meta.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages, list.name).toBeGreaterThanOrEqual(Math.ceil(before.length / 7));
      expect(seen.length - new Set(seen).size, `${list.name}: repeated rows`).toBe(0);
      expect(before.filter((id) => !seen.includes(id)), `${list.name}: missed rows`).toEqual([]);
    }
  });
});
