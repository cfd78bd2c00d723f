import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql, type RawBuilder, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

// BIGINT (int8) columns hold ledger amounts and counters; they fit in a JS number far
// past any realistic value, and strings would leak into every API response.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface DbOptions {
  url: string;
  poolMax: number;
  applicationName: string;
  /** Bound on getting a connection (a new one, or a free one from the pool). */
  connectTimeoutMs?: number;
  /**
   * Bound on waiting for one query's answer, so that a Postgres that hangs or drops off the
   * network gives errors (503 in the API) rather than requests that never end. Unset for
   * migrations, which may rightly take long.
   */
  queryTimeoutMs?: number;
  /** False: statements marked `prepared` are planned at every execution anyway (benches compare). */
  prepareMarked?: boolean;
}

/**
 * A query that timed out leaves its connection waiting for an answer that may never come,
 * and every later query on it would queue behind; the connection is dropped instead, so the
 * pool opens a fresh one.
 */
class DbClient extends pg.Client {
  protected readonly prepares: boolean = true;

  override query(...args: unknown[]): any {
    const [text, values] = args;
    if (this.prepares && typeof text === 'string' && text.startsWith(PREPARED_MARK)) {
      args = [{ name: preparedNames.get(text) ?? nameOf(text), text, values }, ...args.slice(2)];
    }
    const result = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (!(result instanceof Promise)) return result;
    return result.catch((err: unknown) => {
      if ((err as Error)?.message === 'Query read timeout') (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      throw err;
    });
  }
}

/** For benches: the same statements, parsed and planned at every execution. */
class UnpreparedDbClient extends DbClient {
  protected override readonly prepares = false;
}

const PREPARED_MARK = '/* prepared */';
const preparedNames = new Map<string, string>();
function nameOf(text: string): string {
  const name = `p_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  if (preparedNames.size < 1000) preparedNames.set(text, name);
  return name;
}

/**
 * Marks a hot statement of fixed text (its values as parameters) to be prepared once per
 * connection: Postgres then parses and plans it once instead of at every execution. Only for
 * statements whose text comes from code, never built from a variable-length list: each
 * distinct text stays prepared on every connection for its life.
 */
export function prepared<T>(query: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(PREPARED_MARK)}
${query}`;
}

export function createDb(options: DbOptions): Db {
  const pool = new pg.Pool({
    Client: options.prepareMarked === false ? UnpreparedDbClient : DbClient,
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection must not crash the process. pg-pool listens for that only
  // while a client is idle; a checked-out one emits 'error' with nobody listening, which
  // throws. Its query in flight rejects with the same error anyway, and the pool drops it.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
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

/** SQLSTATEs of a server that cannot serve right now: connection exceptions (class 08), shutting down, crashed or still starting (57P01–57P03), full (53300). */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/** Socket errors of a server that is down or out of reach. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres tells a lost or timed-out connection only by its message.
const LOST_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/;

/**
 * Whether an error means Postgres is down, restarting or out of reach (as opposed to a bad
 * query or bad data): the caller should answer "unavailable, try again", and it will pass.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNREACHABLE.has(e.code))) return true;
    if (typeof e.message === 'string' && LOST_CONNECTION.test(e.message)) return true;
  }
  return false;
}
