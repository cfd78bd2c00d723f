import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context.ts';
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

  it('rejects bodies over the limit with 413 in the envelope', async () => {
    const body = JSON.stringify({ pingId: 'x'.repeat(t.ctx.config.api.maxBodyBytes + 10) });
    const res = await call(t.app, 'POST', '/internal/ping', {
      body,
      headers: { 'x-internal-secret': t.ctx.config.internalSecret, 'content-length': String(body.length) },
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
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
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/internal/ping',
        '/api/v1/auth/register',
        '/api/v1/auth/login',
        '/api/v1/auth/refresh',
        '/api/v1/auth/logout',
        '/api/v1/users/me',
        '/api/v1/users/{id}',
        '/api/v1/users/{id}/follow',
        '/api/v1/users/{id}/followers',
        '/api/v1/users/{id}/following',
        '/api/v1/categories',
        '/api/v1/categories/{id}',
      ]),
    );
    expect(doc.json.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.json.paths['/api/v1/auth/logout'].post.security).toEqual([{ bearerAuth: [] }]);
    const docs = await call(t.app, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/api/v1/openapi.json');
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
