import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';

export interface Storage {
  client: S3Client;
  bucket: string;
  /** Every key this process writes starts with it, so tests never touch the stack's objects. */
  keyPrefix: string;
  key(path: string): string;
}

export function createStorage(config: Config['s3']): Storage {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxAttempts: 3,
  });
  return {
    client,
    bucket: config.bucket,
    keyPrefix: config.keyPrefix,
    key: (path) => `${config.keyPrefix}${path.replace(/^\/+/, '')}`,
  };
}

export async function pingStorage(storage: Storage, signal?: AbortSignal): Promise<void> {
  await storage.client.send(new HeadBucketCommand({ Bucket: storage.bucket }), { abortSignal: signal });
}

/** Idempotent: an existing bucket owned by us is success. */
export async function ensureBucket(storage: Storage): Promise<void> {
  try {
    await storage.client.send(new HeadBucketCommand({ Bucket: storage.bucket }));
  } catch {
    try {
      await storage.client.send(new CreateBucketCommand({ Bucket: storage.bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }
}
