import { MongoClient, type Db as MongoDb } from 'mongodb';

export type { MongoDb };

export interface Mongo {
  client: MongoClient;
  db: MongoDb;
  close(): Promise<void>;
}

const RECONNECT_MS = 2000;

/**
 * Boot never waits for Mongo. The driver's own lazy connect gives up for good after one
 * failure (every later call says "Topology is closed"), so a process started while Mongo
 * was down would never recover: connect explicitly, and keep trying until it answers. Once
 * connected, the driver rides out later outages by itself.
 */
export function createMongo(options: { url: string; database: string; appName: string }): Mongo {
  const client = new MongoClient(options.url, {
    appName: options.appName,
    serverSelectionTimeoutMS: 5000,
    // FerretDB v1 does not implement retryable writes; real MongoDB is fine either way.
    retryWrites: false,
  });
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = () => {
    client.connect().catch(() => {
      if (!closed) retry = setTimeout(connect, RECONNECT_MS).unref();
    });
  };
  connect();
  return {
    client,
    db: client.db(options.database),
    async close() {
      closed = true;
      clearTimeout(retry);
      await client.close();
    },
  };
}

export async function pingMongo(mongo: Mongo): Promise<void> {
  await mongo.db.command({ ping: 1 });
}
