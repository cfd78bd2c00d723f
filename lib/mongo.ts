import { MongoClient, type Db as MongoDb } from 'mongodb';

export type { MongoDb };

export interface Mongo {
  client: MongoClient;
  db: MongoDb;
}

/** Connects lazily: the driver opens its pool on the first operation, so boot never blocks on Mongo. */
export function createMongo(options: { url: string; database: string; appName: string }): Mongo {
  const client = new MongoClient(options.url, {
    appName: options.appName,
    serverSelectionTimeoutMS: 5000,
    // FerretDB v1 does not implement retryable writes; real MongoDB is fine either way.
    retryWrites: false,
  });
  return { client, db: client.db(options.database) };
}

export async function pingMongo(mongo: Mongo): Promise<void> {
  await mongo.db.command({ ping: 1 });
}
