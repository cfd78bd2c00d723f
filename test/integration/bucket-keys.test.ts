import { randomBytes } from 'node:crypto';
import type { JetStreamManager, KV } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import { parseConfig, processEnv } from '../../lib/config.ts';
import { bucketKeys, connectNats, type Nats } from '../../lib/nats.ts';

// The gateways' viewer counts list their bucket every few seconds, and its entries expire (a
// gone gateway's share, every delete marker). `kv.keys()` waited forever on about one listing in
// a hundred under such churn, which froze a gateway's counts for good; `bucketKeys` must not.

const TTL_MS = 2000;
let nats: Nats;
let jsm: JetStreamManager;
let kv: KV;
const bucket = `bucket_keys_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  const config = parseConfig(processEnv());
  nats = await connectNats({ url: config.nats.url, subjectPrefix: '', name: 'test-bucket-keys' });
  jsm = await nats.connection.jetstreamManager();
  kv = await nats.connection.jetstream().views.kv(bucket, { ttl: TTL_MS, history: 1 });
});
afterAll(async () => {
  await jsm?.streams.delete(`KV_${bucket}`).catch(() => {});
  await nats?.connection.close();
});

describe('bucketKeys', () => {
  it('lists every live key, and deleted ones until their markers expire', async () => {
    await kv.put('s1.g1', '3');
    await kv.put('s1.g2', '1');
    await kv.put('s2.g1', '2');
    await kv.delete('s2.g1');
    expect((await bucketKeys(jsm, bucket)).sort()).toEqual(['s1.g1', 's1.g2', 's2.g1']);
    expect((await kv.get('s2.g1'))?.operation).toBe('DEL');

    // s1.g1 is kept alive; the others (s2.g1's marker too) expire.
    let keys: string[] = [];
    for (let i = 0; i < 100; i++) {
      await kv.put('s1.g1', '4');
      keys = await bucketKeys(jsm, bucket);
      if (keys.length === 1) break;
      await sleep(100);
    }
    expect(keys).toEqual(['s1.g1']);
  });

  it('finishes every listing while entries are put, deleted and expire around it', async () => {
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        const key = `c${i % 50}.g${i % 7}`;
        await kv.put(key, '1');
        if (i % 3 === 0) await kv.delete(key);
        if (i % 20 === 0) await sleep(5);
      }
    })();
    // Put again every 100 ms, a twentieth of the TTL (a loaded machine's stalls stay well inside
    // it): present in every listing.
    const keepAlive = async () => Promise.all([kv.put('kept.a', '1'), kv.put('kept.b', '1')]);
    await keepAlive();
    const keeping = setInterval(() => void keepAlive(), 100);
    try {
      // Expiries start one TTL in: listings from then on race them.
      await sleep(TTL_MS);
      // A listing that never ends fails this test on its timeout.
      for (let i = 0; i < 500; i++) expect(await bucketKeys(jsm, bucket)).toEqual(expect.arrayContaining(['kept.a', 'kept.b']));
    } finally {
      clearInterval(keeping);
      churning = false;
      await churn;
    }
  });
});
