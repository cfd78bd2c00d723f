import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from '../../lib/token-buckets.ts';

function clock() {
  let ms = 1_000_000;
  return { now: () => ms, advance: (seconds: number) => (ms += seconds * 1000) };
}

describe('token buckets', () => {
  it('allows exactly the capacity at once, then refuses with the wait for one token', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 3, periodSeconds: 60, maxKeys: 10, now: time.now });
    expect([1, 2, 3, 4].map(() => buckets.take('a').allowed)).toEqual([true, true, true, false]);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect(buckets.take('b').allowed).toBe(true); // another key has its own bucket
  });

  it('refills continuously at capacity per period, never above capacity', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 3, periodSeconds: 60, maxKeys: 10, now: time.now });
    for (let i = 0; i < 3; i++) buckets.take('a');
    time.advance(19);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time.advance(1);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    time.advance(3600);
    expect([1, 2, 3, 4].map(() => buckets.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('a refused request does not spend a token', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 1, periodSeconds: 10, maxKeys: 10, now: time.now });
    buckets.take('a');
    for (let i = 0; i < 5; i++) expect(buckets.take('a').allowed).toBe(false);
    time.advance(10);
    expect(buckets.take('a').allowed).toBe(true);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently seen key first', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 1, periodSeconds: 60, maxKeys: 3, now: time.now });
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    buckets.take('a'); // refused, but seen: now the most recent
    buckets.take('d'); // evicts b
    expect(buckets.size).toBe(3);
    expect(buckets.take('a').allowed).toBe(false); // still remembered
    expect(buckets.take('c').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true); // forgotten, so a fresh bucket
  });

  it('drops buckets that have been idle long enough to be full again', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 2, periodSeconds: 60, maxKeys: 1000, now: time.now });
    for (let i = 0; i < 100; i++) buckets.take(`ip-${i}`);
    expect(buckets.size).toBe(100);
    time.advance(60);
    buckets.take('newcomer');
    expect(buckets.size).toBe(1);
  });
});
