import { loadConfig } from '../lib/config.ts';
import { createDb } from '../lib/db.ts';
import { migrateToLatest } from '../lib/migrate.ts';

// `npm run migrate`: applies pending migrations to DATABASE_URL (production deploys run this once).
const config = loadConfig();
const db = createDb({ url: config.postgres.url, poolMax: 1, applicationName: 'streamhub-migrate' });
try {
  const results = await migrateToLatest(db);
  for (const r of results) process.stdout.write(`${r.status}: ${r.migrationName}\n`);
  if (!results.length) process.stdout.write('Database is up to date.\n');
} finally {
  await db.destroy();
}
