import { OpenAPIHono } from '@hono/zod-openapi';
import { errorBody } from '../lib/errors.ts';
import type { AppEnv } from './context.ts';

/**
 * Every route module builds its router here, so request validation failures all take
 * the documented error shape and name the offending fields.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const details = result.error.issues.map((issue) => ({
          field: issue.path.join('.') || result.target,
          message: issue.message,
        }));
        return c.json(errorBody('validation_failed', `Invalid request ${result.target}`, details), 400);
      }
    },
  });
}

