import { randomBytes } from 'node:crypto';
import type { Db } from '../../lib/db.ts';
import { jetStreamNames, type Nats } from '../../lib/nats.ts';

// What the gateway needs to find for the bench, and its removal: live streams in Postgres
// (a join is refused for an unknown stream) and a JetStream set of the bench's own prefix.

export async function insertLiveStreams(db: Db, count: number, tag: string): Promise<{ ownerId: string; streamIds: string[] }> {
  const owner = await db.selectFrom('users').select('id').where('username', '=', 'creator').executeTakeFirst();
  if (!owner) throw new Error('No `creator` user in the database; start the stack once (`npm start`) so it is seeded');
  const rows = await db
    .insertInto('streams')
    .values(
      Array.from({ length: count }, (_, i) => ({
        owner_id: owner.id,
        title: `bench realtime ${tag} #${i}`,
        status: 'live' as const,
        stream_key_hash: randomBytes(32).toString('hex'),
        stream_key_prefix: 'bench',
      })),
    )
    .returning('id')
    .execute();
  return { ownerId: owner.id, streamIds: rows.map((r) => r.id) };
}

export async function deleteStreams(db: Db, ids: string[]): Promise<void> {
  if (ids.length) await db.deleteFrom('streams').where('id', 'in', ids).execute();
}

export async function deleteJetStream(nats: Nats): Promise<void> {
  const jsm = await nats.connection.jetstreamManager();
  for (const name of jetStreamNames(nats.subject(''))) await jsm.streams.delete(name).catch(() => false);
}
