// Token buckets in this process's memory, one per key: a key may spend `capacity` requests at
// once and then `capacity` per `periodSeconds` (refilled continuously). No I/O, so a check costs
// a Map lookup instead of a database write. Memory is bounded: buckets untouched long enough to
// be full again are dropped (a full bucket is the same as none), and past `maxKeys` the least
// recently seen key is forgotten first.

export interface BucketDecision {
  allowed: boolean;
  /** Whole seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

export interface TokenBuckets {
  take(key: string): BucketDecision;
  readonly size: number;
}

export function createTokenBuckets(options: { capacity: number; periodSeconds: number; maxKeys: number; now?: () => number }): TokenBuckets {
  const { capacity, maxKeys } = options;
  const now = options.now ?? (() => performance.now());
  const refillPerMs = capacity / (options.periodSeconds * 1000);
  const refillsInMs = options.periodSeconds * 1000;
  // Insertion order is recency order: a key is re-inserted on every take.
  const buckets = new Map<string, { tokens: number; at: number }>();

  const evict = (at: number) => {
    for (const [key, bucket] of buckets) {
      if (buckets.size < maxKeys && at - bucket.at < refillsInMs) return;
      buckets.delete(key);
    }
  };

  return {
    take(key) {
      const at = now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key);
        bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.at) * refillPerMs);
        bucket.at = at;
      } else {
        evict(at);
        bucket = { tokens: capacity, at };
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
    },
    get size() {
      return buckets.size;
    },
  };
}
