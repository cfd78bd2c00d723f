import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../lib/errors.ts';
import { runHealthChecks, type HealthCheck } from '../../lib/health.ts';
import type { HttpMetrics } from '../../lib/metrics.ts';
import { isInternalCaller } from '../../lib/secrets.ts';
import { createRouter } from '../router.ts';

const componentSchema = z.object({
  status: z.enum(['ok', 'failing']),
  latencyMs: z.number(),
  error: z.string().optional(),
});

const healthSchema = z.object({
  status: z.enum(['ok', 'failing']),
  failing: z.array(z.string()).optional().openapi({ description: 'Internal callers only' }),
  components: z.record(z.string(), componentSchema).optional().openapi({ description: 'Internal callers only' }),
});

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Whether every outside system the API needs answers',
  description:
    'Public callers get `{status}` only. With INTERNAL_SECRET (`x-internal-secret`, or `Authorization: Bearer`), the answer also names the failing components and each one\'s latency and error.',
  responses: {
    200: { description: 'Every component answered', content: { 'application/json': { schema: healthSchema } } },
    503: { description: 'At least one component failed', content: { 'application/json': { schema: healthSchema } } },
  },
});

/** `/health` (liveness + dependencies) and `/metrics` (Prometheus text format, operators only). */
export function systemRoutes(deps: { checks: HealthCheck[]; timeoutMs: number; metrics: HttpMetrics; internalSecret: string }) {
  const router = createRouter();
  const internal = (header: (name: string) => string | undefined) => isInternalCaller(header, deps.internalSecret);

  router.openapi(healthRoute, async (c) => {
    const report = await runHealthChecks(deps.checks, deps.timeoutMs);
    const status = report.status === 'ok' ? 200 : 503;
    if (status === 503) c.get('log').warn({ failing: report.failing, components: report.components }, 'health check failing');
    // Component names and error text describe the deployment: for operators, not the public.
    return c.json(internal((name) => c.req.header(name)) ? report : { status: report.status }, status);
  });

  router.get('/metrics', async (c) => {
    if (!internal((name) => c.req.header(name))) {
      throw new AppError('unauthorized', 'Metrics are for operators: send INTERNAL_SECRET as a bearer token or x-internal-secret');
    }
    c.header('content-type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  return router;
}
