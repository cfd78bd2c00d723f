import { createRoute, z } from '@hono/zod-openapi';
import { errorBody } from '../../lib/errors.ts';
import { runHealthChecks, type HealthCheck } from '../../lib/health.ts';
import type { HttpMetrics } from '../../lib/metrics.ts';
import { createRouter } from '../router.ts';

const componentSchema = z.object({
  status: z.enum(['ok', 'failing']),
  latencyMs: z.number(),
  error: z.string().optional(),
});

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Checks every outside system the API needs',
  responses: {
    200: {
      description: 'Every component answered',
      content: {
        'application/json': {
          schema: z.object({
            success: z.literal(true),
            data: z.object({ status: z.literal('ok'), components: z.record(z.string(), componentSchema) }),
          }),
        },
      },
    },
    503: { description: 'At least one component failed; `error.details.failing` names them' },
  },
});

/** `/health` (liveness + dependencies) and `/metrics` (Prometheus text format). */
export function systemRoutes(deps: { checks: HealthCheck[]; timeoutMs: number; metrics: HttpMetrics }) {
  const router = createRouter();

  router.openapi(healthRoute, async (c) => {
    const report = await runHealthChecks(deps.checks, deps.timeoutMs);
    if (report.status === 'ok') {
      return c.json({ success: true as const, data: { status: 'ok' as const, components: report.components } }, 200);
    }
    c.get('log').warn({ failing: report.failing, components: report.components }, 'health check failing');
    return c.json(
      errorBody('unavailable', `Unhealthy: ${report.failing.join(', ')}`, {
        failing: report.failing,
        components: report.components,
      }),
      503,
    );
  });

  router.get('/metrics', async (c) => {
    c.header('content-type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  return router;
}
