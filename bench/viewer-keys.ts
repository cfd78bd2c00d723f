import { randomBytes } from 'node:crypto';
import { bucketKeys, connectNats } from '../lib/nats.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { measure, printTable } from './lib/measure.ts';

// The listing each gateway makes of the viewers bucket every viewer-count tick: `bucketKeys`
// (the stream's subject state, one request) next to nats.js `kv.keys()` (an ordered consumer
// per listing) as the baseline, on a bucket of `streams × gateways` shares. No entry expires
// during the run: `kv.keys()` waits forever on a listing that races an expiry
// (test/integration/bucket-keys.test.ts), which a timing cannot show.
// Needs NATS of the local stack. Usage: npm run bench -- viewer-keys [streams=100] [gateways=4] [listings=200]

export async function benchViewerKeys(args: string[]): Promise<void> {
  const [streams = 100, gateways = 4, listings = 200] = args.map(Number);
  const { config } = stackEnvironment();
  const nats = await connectNats({ url: config.nats.url, subjectPrefix: '', name: 'bench-viewer-keys' });
  const jsm = await nats.connection.jetstreamManager();
  const bucket = `bench_viewer_keys_${randomBytes(4).toString('hex')}`;
  try {
    const kv = await nats.connection.jetstream().views.kv(bucket, { history: 1 });
    for (let s = 0; s < streams; s++) await Promise.all(Array.from({ length: gateways }, (_, g) => kv.put(`s${s}.g${g}`, '1')));
    const expected = streams * gateways;
    const check = (keys: string[]) => {
      if (keys.length !== expected) throw new Error(`listed ${keys.length} keys, expected ${expected}`);
    };
    const baseline = await measure('kv.keys() (baseline)', listings, 1, async () => {
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      check(keys);
    });
    const listed = await measure('bucketKeys', listings, 1, async () => check(await bucketKeys(jsm, bucket)));
    printTable(`viewers bucket listing: ${expected} keys (${streams} streams × ${gateways} gateways), ${listings} listings one at a time`, [baseline, listed]);
    process.stdout.write(`\nkv.keys() p50 / bucketKeys p50: ${(baseline.p50Ms / listed.p50Ms).toFixed(1)}×\n`);
  } finally {
    await jsm.streams.delete(`KV_${bucket}`).catch(() => {});
    await nats.connection.close();
  }
}
