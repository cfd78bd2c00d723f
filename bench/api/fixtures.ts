import { randomBytes } from 'node:crypto';
import type { Config } from '../../lib/config.ts';
import { createDb } from '../../lib/db.ts';
import { migrateToLatest } from '../../lib/migrate.ts';
import { dropDatabase, ensureDatabase } from '../../scripts/stack/provision.ts';
import { seedDemoData } from '../../scripts/stack/seed.ts';

// A database of the bench's own (created, migrated, seeded through the real code, dropped at
// the end), so its load and rows never touch what `npm start` keeps.

export const LIST_PAGE_STREAMS = 30;

export async function createScratchDatabase(config: Config, tag: string, bench = 'api'): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(config.postgres.url);
  url.pathname = `/streamhub_bench_${bench}_${tag}`;
  const scratch: Config = { ...config, postgres: { ...config.postgres, url: url.toString() } };
  await ensureDatabase(scratch.postgres.url);
  const drop = () => dropDatabase(scratch.postgres.url);
  try {
    const db = createDb({ url: scratch.postgres.url, poolMax: 2, applicationName: 'bench-api-setup' });
    try {
      await migrateToLatest(db);
      await seedDemoData(scratch); // `creator` (followed by viewer1–3), `viewer1`…, categories
      const creator = await db.selectFrom('users').select('id').where('username', '=', 'creator').executeTakeFirstOrThrow();
      // A full first page of the public stream list (limit 20) and more behind it.
      await db
        .insertInto('streams')
        .values(
          Array.from({ length: LIST_PAGE_STREAMS }, (_, i) => ({
            owner_id: creator.id,
            title: `bench stream #${i}`,
            // Not `idle`: rows made without their workflow would get one from the API process
            // when it starts (it starts the workflows of waiting streams whose creation was cut short).
            status: i % 3 ? ('ended' as const) : ('live' as const),
            stream_key_hash: randomBytes(32).toString('hex'),
            stream_key_prefix: 'bench',
          })),
        )
        .execute();
    } finally {
      await db.destroy();
    }
  } catch (err) {
    await drop();
    throw err;
  }
  return { url: scratch.postgres.url, drop };
}
