import { loadConfig } from '../lib/config.ts';
import { provisionPlatform } from './stack/provision.ts';

// `npm run provision`: creates or upgrades everything StreamHub expects to find (migrations,
// Temporal namespace and search attributes, bucket, JetStream). Idempotent; production runs
// it once per deploy before the services (docker-compose's `provision` service).
const config = loadConfig();
await provisionPlatform(config, (line) => process.stdout.write(`${line}\n`));
