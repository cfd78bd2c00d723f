import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../lib/group-commit.ts';

interface Item {
  key: string;
  n: number;
}

/** A database stand-in whose commits finish only when the test says so. */
function heldCommits() {
  const batches: { items: readonly Item[]; finish(outcomes?: PromiseSettledResult<number>[]): void; fail(err: unknown): void }[] = [];
  const commit = (items: readonly Item[]) =>
    new Promise<PromiseSettledResult<number>[]>((resolve, reject) => {
      batches.push({
        items,
        finish: (outcomes) => resolve(outcomes ?? items.map((item) => ({ status: 'fulfilled', value: item.n * 10 }))),
        fail: reject,
      });
    });
  return { batches, commit };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('writes a lone item at once, alone, and answers it', async () => {
    const db = heldCommits();
    const write = groupCommit({ commit: db.commit, keyOf: (i: Item) => i.key, maxBatch: 10, maxInFlight: 1 });
    const answer = write({ key: 'a', n: 1 });
    expect(db.batches.map((b) => b.items)).toEqual([[{ key: 'a', n: 1 }]]);
    db.batches[0]!.finish();
    expect(await answer).toBe(10);
  });

  it('gathers what arrives while a batch is being written into the next one, in arrival order', async () => {
    const db = heldCommits();
    const sizes: number[] = [];
    const write = groupCommit({ commit: db.commit, keyOf: (i: Item) => i.key, maxBatch: 10, maxInFlight: 1, onBatch: (n) => sizes.push(n) });
    const answers = ['a', 'b', 'c', 'd'].map((key, n) => write({ key, n }));
    expect(db.batches).toHaveLength(1);
    db.batches[0]!.finish();
    await tick();
    expect(db.batches.map((b) => b.items.map((i) => i.key))).toEqual([['a'], ['b', 'c', 'd']]);
    db.batches[1]!.finish();
    expect(await Promise.all(answers)).toEqual([0, 10, 20, 30]);
    expect(sizes).toEqual([1, 3]);
  });

  it('without keys, lets items of any kind share a batch (reads of one stream)', async () => {
    const db = heldCommits();
    const read = groupCommit({ commit: db.commit, maxBatch: 10, maxInFlight: 1 });
    const answers = ['x', 'a', 'a', 'a'].map((key, n) => read({ key, n }));
    db.batches[0]!.finish();
    await tick();
    expect(db.batches.map((b) => b.items.map((i) => i.n))).toEqual([[0], [1, 2, 3]]);
    db.batches[1]!.finish();
    expect(await Promise.all(answers)).toEqual([0, 10, 20, 30]);
  });

  it('keeps items of one key out of the same batch, and never more than maxBatch together', async () => {
    const db = heldCommits();
    const write = groupCommit({ commit: db.commit, keyOf: (i: Item) => i.key, maxBatch: 3, maxInFlight: 1 });
    const answers = ['x', 'a', 'a', 'b', 'c', 'd', 'a'].map((key, n) => write({ key, n }));
    db.batches[0]!.finish();
    await tick();
    expect(db.batches[1]!.items.map((i) => i.n)).toEqual([1, 3, 4]);
    db.batches[1]!.finish();
    await tick();
    expect(db.batches[2]!.items.map((i) => i.n)).toEqual([2, 5]);
    db.batches[2]!.finish();
    await tick();
    expect(db.batches[3]!.items.map((i) => i.n)).toEqual([6]);
    db.batches[3]!.finish();
    expect(await Promise.all(answers)).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });

  it('writes up to maxInFlight batches at once', async () => {
    const db = heldCommits();
    const write = groupCommit({ commit: db.commit, keyOf: (i: Item) => i.key, maxBatch: 10, maxInFlight: 2 });
    const answers = ['a', 'b', 'c', 'd'].map((key, n) => write({ key, n }));
    expect(db.batches.map((b) => b.items.map((i) => i.key))).toEqual([['a'], ['b']]);
    db.batches[1]!.finish();
    await tick();
    expect(db.batches.map((b) => b.items.map((i) => i.key))).toEqual([['a'], ['b'], ['c', 'd']]);
    db.batches[0]!.finish();
    db.batches[2]!.finish();
    expect(await Promise.all(answers)).toEqual([0, 10, 20, 30]);
  });

  it('answers each item its own outcome, and every item of a batch that failed whole its error', async () => {
    const db = heldCommits();
    const write = groupCommit({ commit: db.commit, keyOf: (i: Item) => i.key, maxBatch: 10, maxInFlight: 1 });
    const first = write({ key: 'a', n: 0 });
    const [b, c] = [write({ key: 'b', n: 1 }), write({ key: 'c', n: 2 })];
    const refused = new Error('refused');
    db.batches[0]!.fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    db.batches[1]!.finish([{ status: 'rejected', reason: refused }, { status: 'fulfilled', value: 7 }]);
    await expect(b).rejects.toBe(refused);
    expect(await c).toBe(7);
    // Nothing is stuck after failures: the next item goes at once.
    const d = write({ key: 'd', n: 3 });
    db.batches[2]!.finish();
    expect(await d).toBe(30);
  });

  it('answers every item exactly once with its own result, whatever the arrivals, keys and limits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), waves: fc.nat(3) }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        async (arrivals, maxBatch, maxInFlight) => {
          const seen: Item[][] = [];
          let busy = 0;
          let mostBusy = 0;
          const write = groupCommit({
            keyOf: (i: Item) => i.key,
            maxBatch,
            maxInFlight,
            commit: async (items) => {
              seen.push([...items]);
              mostBusy = Math.max(mostBusy, ++busy);
              await tick();
              busy--;
              return items.map((i) => ({ status: 'fulfilled' as const, value: i.n }));
            },
          });
          const answers: Promise<number>[] = [];
          for (const [n, arrival] of arrivals.entries()) {
            for (let w = 0; w < arrival.waves; w++) await tick();
            answers.push(write({ key: arrival.key, n }));
          }
          expect(await Promise.all(answers)).toEqual(arrivals.map((_, n) => n));
          expect(seen.flat().map((i) => i.n).sort((x, y) => x - y)).toEqual(arrivals.map((_, n) => n));
          for (const batch of seen) {
            expect(batch.length).toBeLessThanOrEqual(maxBatch);
            expect(new Set(batch.map((i) => i.key)).size).toBe(batch.length);
          }
          expect(mostBusy).toBeLessThanOrEqual(maxInFlight);
          // Items of one key are written one after another, in the order they came.
          const batchOf = new Map(seen.flatMap((batch, b) => batch.map((i) => [i.n, b] as const)));
          for (const [n, arrival] of arrivals.entries()) {
            const earlier = arrivals.findLastIndex((a, m) => m < n && a.key === arrival.key);
            if (earlier >= 0) expect(batchOf.get(earlier)!).toBeLessThan(batchOf.get(n)!);
          }
        },
      ),
    );
  });
});
