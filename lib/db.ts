import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

// BIGINT (int8) columns hold ledger amounts and counters; they fit in a JS number far
// past any realistic value, and strings would leak into every API response.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDb(options: { url: string; poolMax: number; applicationName: string }): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** A unique_violation from Postgres, optionally of one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/**
 * Errors that retrying cannot fix: bad data (class 22: invalid uuid, out of range …) and
 * integrity violations (class 23) other than unique_violation, which callers treat as "exists".
 */
export function isPermanentDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || (code.startsWith('23') && code !== '23505'));
}
