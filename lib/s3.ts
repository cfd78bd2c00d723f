import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from './config.ts';

// The one module that talks to S3. Every function takes a logical path ("videos/<id>/…");
// `key()` adds the deployment's prefix.

export interface Storage {
  client: S3Client;
  /** Signs URLs handed to clients, for the host name they use (S3_PUBLIC_ENDPOINT). */
  publicSigner: S3Client;
  bucket: string;
  /** Every key this process writes starts with it, so tests never touch the stack's objects. */
  keyPrefix: string;
  key(path: string): string;
}

export function createStorage(config: Config['s3']): Storage {
  const clientFor = (endpoint: string) =>
    new S3Client({
      endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      maxAttempts: 3,
    });
  const client = clientFor(config.endpoint);
  return {
    client,
    publicSigner: config.publicEndpoint === config.endpoint ? client : clientFor(config.publicEndpoint),
    bucket: config.bucket,
    keyPrefix: config.keyPrefix,
    key: (p) => `${config.keyPrefix}${p.replace(/^\/+/, '')}`,
  };
}

export function closeStorage(storage: Storage): void {
  storage.client.destroy();
  if (storage.publicSigner !== storage.client) storage.publicSigner.destroy();
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

/**
 * A short-lived GET URL. `public` URLs are for clients (players, browsers); `internal` ones
 * are for our own processes (FFmpeg reading a source) and use the internal endpoint.
 */
export function presignGet(storage: Storage, p: string, expiresInSeconds: number, audience: 'public' | 'internal'): Promise<string> {
  const signer = audience === 'public' ? storage.publicSigner : storage.client;
  return getSignedUrl(signer, new GetObjectCommand({ Bucket: storage.bucket, Key: storage.key(p) }), { expiresIn: expiresInSeconds });
}

/** A short-lived PUT URL a client uploads one object to. */
export function presignPut(storage: Storage, p: string, expiresInSeconds: number): Promise<string> {
  return getSignedUrl(storage.publicSigner, new PutObjectCommand({ Bucket: storage.bucket, Key: storage.key(p) }), {
    expiresIn: expiresInSeconds,
  });
}

export interface ObjectHead {
  sizeBytes: number;
}

/**
 * S3 says "no such object" as NoSuchKey (GET), NotFound (HEAD has no body to name it) or a
 * bare 404. A missing bucket is a misconfiguration, not a missing object: it still throws.
 */
function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket');
}

/** The object's size, or null when there is no such object. Other failures throw. */
export async function headObject(storage: Storage, p: string): Promise<ObjectHead | null> {
  try {
    const head = await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: storage.key(p) }));
    return { sizeBytes: head.ContentLength ?? 0 };
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** The object's text, or null when there is no such object. Other failures throw. */
export async function readObjectText(storage: Storage, p: string): Promise<string | null> {
  try {
    const res = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: storage.key(p) }));
    return (await res.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** Writes a small text object (a bank file, a report) in one PUT; writing the same text again is harmless. */
export async function writeObjectText(storage: Storage, p: string, text: string, contentType: string): Promise<void> {
  await storage.client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: storage.key(p), Body: text, ContentType: contentType }));
}

/**
 * Server-side copy of one object (at most 5 GiB, S3's limit for one copy). False when there
 * is nothing at `from`; other failures throw.
 */
export async function copyObject(storage: Storage, from: string, to: string): Promise<boolean> {
  try {
    await storage.client.send(
      new CopyObjectCommand({ Bucket: storage.bucket, Key: storage.key(to), CopySource: encodeURI(`${storage.bucket}/${storage.key(from)}`) }),
    );
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/**
 * Streams one object into a local file; returns its size, or null when there is no such
 * object. `onData` is called as bytes arrive (for heartbeats on large files).
 */
export async function downloadFile(
  storage: Storage,
  p: string,
  file: string,
  options: { signal?: AbortSignal; onData?: (bytesSoFar: number) => void } = {},
): Promise<number | null> {
  let body: Readable;
  try {
    const res = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: storage.key(p) }), { abortSignal: options.signal });
    body = res.Body as Readable;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  let bytes = 0;
  async function* counted(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      bytes += chunk.length;
      options.onData?.(bytes);
      yield chunk;
    }
  }
  await pipeline(body, counted, createWriteStream(file), { signal: options.signal });
  return bytes;
}

const contentTypes: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.flv': 'video/x-flv',
  '.vtt': 'text/vtt',
};

const contentTypeOf = (file: string) => contentTypes[path.extname(file)] ?? 'application/octet-stream';

/**
 * Uploads one local file. The body is read into memory (HLS segments and thumbnails are a
 * few MB) because the SDK cannot retry a request whose stream it already consumed: a
 * keep-alive socket the server closed while FFmpeg was busy would fail the whole attempt.
 */
export async function uploadFile(storage: Storage, p: string, file: string, signal?: AbortSignal): Promise<void> {
  await storage.client.send(
    new PutObjectCommand({
      Bucket: storage.bucket,
      Key: storage.key(p),
      Body: await readFile(file),
      ContentType: contentTypeOf(file),
    }),
    { abortSignal: signal },
  );
}

/**
 * Uploads a file of any size (a 12-hour recording) as a multipart upload: parts are
 * buffered one at a time, so each can be retried, and memory stays at a few parts.
 */
export async function uploadLargeFile(storage: Storage, p: string, file: string, options: { signal?: AbortSignal; onPart?: () => void } = {}): Promise<void> {
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(options.signal?.reason), { once: true });
  const upload = new Upload({
    client: storage.client,
    params: { Bucket: storage.bucket, Key: storage.key(p), Body: createReadStream(file), ContentType: contentTypeOf(file) },
    partSize: 16 * 1024 * 1024,
    queueSize: 2,
    abortController: abort,
  });
  upload.on('httpUploadProgress', () => options.onPart?.());
  await upload.done();
}

/** A PUT of one segment or thumbnail that takes longer is hung; bounds how long an abort waits. */
const PUT_TIMEOUT_MS = 2 * 60_000;

/**
 * Uploads every file under `dir` to `prefix/<relative path>`, a few at a time. Files whose
 * names `isLast` accepts go after all others, so a reader never finds a playlist that
 * points at segments not yet written. Same keys on every run: a retry overwrites.
 * Aborting stops starting uploads and waits for those already sent before rejecting: a PUT
 * dropped mid-flight can still land, and whoever cleans up after an abort must come last.
 */
export async function uploadDirectory(
  storage: Storage,
  dir: string,
  prefix: string,
  options: { signal?: AbortSignal; concurrency?: number; isLast?: (relative: string) => boolean; onUploaded?: (relative: string) => void } = {},
): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  const last = files.filter((f) => options.isLast?.(f));
  const first = files.filter((f) => !options.isLast?.(f));
  for (const batch of [first, last]) {
    const queue = [...batch];
    const worker = async () => {
      for (let f = queue.shift(); f !== undefined && !options.signal?.aborted; f = queue.shift()) {
        await uploadFile(storage, `${prefix}/${f}`, path.join(dir, f), AbortSignal.timeout(PUT_TIMEOUT_MS));
        options.onUploaded?.(f);
      }
    };
    // allSettled: one failed PUT must not return while the others are still in flight.
    const results = await Promise.allSettled(Array.from({ length: options.concurrency ?? 8 }, worker));
    options.signal?.throwIfAborted();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  return files.sort();
}

/** Deletes these full keys, up to 1000 per request (S3's limit). Missing ones are fine. */
async function deleteKeys(storage: Storage, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    await storage.client.send(new DeleteObjectsCommand({ Bucket: storage.bucket, Delete: { Objects, Quiet: true } }));
  }
}

/** Deletes the objects at these paths. Missing ones are fine. */
export function deleteObjects(storage: Storage, paths: string[]): Promise<void> {
  return deleteKeys(storage, paths.map((p) => storage.key(p)));
}

export function deleteObject(storage: Storage, p: string): Promise<void> {
  return deleteObjects(storage, [p]);
}

/** Full keys under a logical prefix, one listing page at a time. */
async function* keyPages(storage: Storage, prefix: string): AsyncGenerator<string[]> {
  let token: string | undefined;
  do {
    const page = await storage.client.send(
      new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: storage.key(prefix), ContinuationToken: token }),
    );
    yield (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
    token = page.NextContinuationToken;
  } while (token);
}

/** Deletes every object whose path starts with `prefix`; returns how many. Idempotent. */
export async function deleteObjectsUnder(storage: Storage, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of keyPages(storage, prefix)) {
    await deleteKeys(storage, keys);
    deleted += keys.length;
  }
  return deleted;
}

/** Logical paths of every object under `prefix`. */
export async function listObjects(storage: Storage, prefix: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const keys of keyPages(storage, prefix)) paths.push(...keys.map((k) => k.slice(storage.keyPrefix.length)));
  return paths.sort();
}
