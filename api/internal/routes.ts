import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { pingWorkflow } from '../../workflows/ping.ts';
import { requireInternalSecret } from '../middleware/internal-secret.ts';
import { createRouter } from '../router.ts';
import type { StreamTimings } from '../streams/service.ts';
import { createPlaybackSigner } from '../videos/playback.ts';
import { hlsAccessRoutes } from './hls-access.ts';
import { rtmpRoutes } from './rtmp.ts';

const pingRoute = createRoute({
  method: 'post',
  path: '/ping',
  tags: ['internal'],
  summary: 'Runs the ping workflow through both workers and Postgres',
  description: 'Operator probe. Requires the `x-internal-secret` header.',
  request: {
    body: {
      required: false,
      content: { 'application/json': { schema: z.object({ pingId: z.string().uuid().optional() }) } },
    },
  },
  responses: {
    200: {
      description: 'The workflow ran end to end',
      content: {
        'application/json': {
          schema: z.object({
            success: z.literal(true),
            data: z.object({ pingId: z.string(), workflowId: z.string(), storedAt: z.string(), ffmpeg: z.string() }),
          }),
        },
      },
    },
  },
});

/** Routes only nginx-rtmp and operators may call; never exposed through a public proxy. */
export function internalRoutes(deps: {
  db: Db;
  temporal: Temporal;
  internalSecret: string;
  jwtSecret: string;
  timings: StreamTimings;
  relayUrl: string;
  controlUrl: string;
  recordingsDir: string;
}) {
  const router = createRouter();
  router.use('*', requireInternalSecret(deps.internalSecret));
  router.route('/rtmp', rtmpRoutes(deps));
  router.route('/hls-access', hlsAccessRoutes({ db: deps.db, livePlayback: createPlaybackSigner(deps.jwtSecret, 'live') }));

  router.openapi(pingRoute, async (c) => {
    const body = c.req.valid('json') ?? {};
    const pingId = body.pingId ?? randomUUID();
    const workflowId = workflowIds.ping(pingId);
    c.get('log').info({ workflowId }, 'starting ping workflow');
    const result = await deps.temporal.client.workflow.execute<typeof pingWorkflow>('pingWorkflow', {
      workflowId,
      taskQueue: deps.temporal.taskQueue,
      args: [{ pingId, mediaTaskQueue: deps.temporal.mediaTaskQueue }],
      workflowExecutionTimeout: '1 minute',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return c.json({ success: true as const, data: result }, 200);
  });

  return router;
}
