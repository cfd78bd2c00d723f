import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../../lib/db.ts';
import { AppError, errorBody, type ErrorCode } from '../../lib/errors.ts';
import type { AppEnv } from '../context.ts';

const codeForStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'invalid_media',
  429: 'rate_limited',
  503: 'unavailable',
};

// Hono's own messages may quote a parser's error (e.g. a malformed multipart body): the
// client gets one of these instead.
const messageForCode: Partial<Record<ErrorCode, string>> = {
  bad_request: 'Malformed request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Request body too large',
  invalid_media: 'Unsupported media',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
};

/**
 * The single place where thrown errors become responses. Only server faults are logged as
 * errors, with what caused them; no internal error text ever reaches the client.
 */
export function handleError(err: Error, c: Context<AppEnv>) {
  if (err instanceof AppError) {
    if (err.status >= 500) c.get('log')?.error({ err }, 'server fault'); // with its cause
    return c.json(errorBody(err.code, err.message, err.details), err.status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    const code = codeForStatus[err.status] ?? 'bad_request';
    const message = err.status === 400 && /JSON/i.test(err.message) ? 'Malformed JSON body' : (messageForCode[code] ?? code);
    return c.json(errorBody(code, message), err.status);
  }
  const log = c.get('log');
  if (isDatabaseUnavailable(err)) {
    // Postgres is restarting or out of reach: a retry soon will do, so say that, not "internal error".
    log?.warn({ err }, 'database unavailable');
    return c.json(errorBody('unavailable', 'Service temporarily unavailable; try again shortly'), 503);
  }
  log?.error({ err }, 'unhandled error');
  return c.json(errorBody('internal', 'Internal server error'), 500);
}

export function handleNotFound(c: Context<AppEnv>) {
  return c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}`), 404);
}
