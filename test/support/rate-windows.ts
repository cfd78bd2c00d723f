import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';

/** The fixed window `hitRateLimit` counts in right now, by the database clock it uses. */
async function currentWindow(db: Db, windowSeconds: number): Promise<number> {
  const { rows } = await sql<{ window: number }>`select floor(extract(epoch from now()) / ${windowSeconds})::int as window`.execute(db);
  return rows[0]!.window;
}

/**
 * Runs `attempt` (which should count against fresh subjects each time: a new user, a new
 * address) until it ran inside one window of a fixed-window limit, and returns its result.
 * A burst that straddled a boundary saw its count reset and proves nothing either way, so it
 * is tried again: a boundary test then holds at any time of the minute or hour.
 */
export async function inOneWindow<T>(db: Db, windowSeconds: number, attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const before = await currentWindow(db, windowSeconds);
    const result = await attempt();
    if ((await currentWindow(db, windowSeconds)) === before) return result;
  }
  throw new Error(`every attempt straddled a ${windowSeconds} s window`);
}
