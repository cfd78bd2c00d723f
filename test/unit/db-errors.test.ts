import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const sqlState = (code: string) => Object.assign(new pg.DatabaseError('server said no', 0, 'error'), { code });

describe('isDatabaseUnavailable', () => {
  it('is true for a server that is down, restarting, full or out of reach', () => {
    for (const err of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET'),
      withCode('ETIMEDOUT'),
      withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND db'),
      sqlState('57P01'), // admin_shutdown
      sqlState('57P02'), // crash_shutdown
      sqlState('57P03'), // cannot_connect_now: starting up, in recovery
      sqlState('08006'), // connection_failure
      sqlState('08001'),
      sqlState('53300'), // too_many_connections
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new Error('Query read timeout'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('wrapped', { cause: withCode('ECONNREFUSED') }),
    ]) {
      expect([err.message, isDatabaseUnavailable(err)]).toEqual([err.message, true]);
    }
  });

  it('is false for bad queries, bad data and everything else', () => {
    for (const err of [
      sqlState('23505'), // unique_violation
      sqlState('22P02'), // invalid text representation
      sqlState('42P01'), // undefined table
      sqlState('57014'), // query_canceled (statement_timeout): the query, not the server
      new AppError('unavailable', 'Chat is unavailable; try again'),
      new Error('boom'),
      withCode('ERR_INVALID_ARG_TYPE'),
    ]) {
      expect([err.message, isDatabaseUnavailable(err)]).toEqual([err.message, false]);
    }
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });
});
