import type { Config } from '../lib/config.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { HttpMetrics } from '../lib/metrics.ts';
import type { Mongo } from '../lib/mongo.ts';
import type { Nats } from '../lib/nats.ts';
import type { Storage } from '../lib/s3.ts';
import type { Temporal } from '../lib/temporal.ts';
import type { AccessClaims } from '../lib/tokens.ts';

/** Everything the API talks to, built once by the entrypoint (or a test) and passed in. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  metrics: HttpMetrics;
  db: Db;
  mongo: Mongo;
  storage: Storage;
  nats: Nats;
  temporal: Temporal;
}

export type AuthContext = AccessClaims;

/** Per-request values set by middleware and read by handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    clientIp: string;
    /** Set by `authenticate` when a valid bearer token came with the request. */
    auth: AuthContext | undefined;
  };
}
