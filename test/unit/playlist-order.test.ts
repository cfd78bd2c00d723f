import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, evenKeys, gapAround, keyBetween, MAX_KEY_LENGTH } from '../../lib/playlist-order.ts';

// Play order keys (lib/playlist-order.ts): a model playlist (an array in play order) and its
// keys must agree after any sequence of moves and inserts.

interface Item {
  id: number;
  key: string;
}

/** Moves (or inserts, when `item` is new) `item` next to `anchor` the way the service does. */
function place(list: Item[], item: number, anchor: number, side: 'before' | 'after'): Item[] {
  const others = list.filter((i) => i.id !== item);
  const anchorIndex = others.findIndex((i) => i.id === anchor);
  const [lower, upper] = gapAround(others.map((i) => i.key), anchorIndex, side);
  const placed = { id: item, key: keyBetween(lower, upper) };
  const model = [...others];
  model.splice(side === 'before' ? anchorIndex : anchorIndex + 1, 0, placed);
  return model;
}

const isStrictlyAscending = (keys: string[]) => keys.every((k, i) => i === 0 || compareKeys(keys[i - 1]!, k) < 0);

describe('playlist order keys', () => {
  it('puts a key strictly between its neighbours, at either end too', () => {
    const a = keyBetween(null, null);
    const b = keyBetween(a, null);
    const first = keyBetween(null, a);
    const mid = keyBetween(a, b);
    expect(isStrictlyAscending([first, a, mid, b])).toBe(true);
    expect(() => keyBetween(b, b)).toThrow();
  });

  it('names the neighbours of a place before or after an anchor', () => {
    expect(gapAround(['a', 'b', 'c'], 0, 'before')).toEqual([null, 'a']);
    expect(gapAround(['a', 'b', 'c'], 1, 'before')).toEqual(['a', 'b']);
    expect(gapAround(['a', 'b', 'c'], 1, 'after')).toEqual(['b', 'c']);
    expect(gapAround(['a', 'b', 'c'], 2, 'after')).toEqual(['c', null]);
  });

  it('spreads short keys evenly for a respacing', () => {
    const keys = evenKeys(5000);
    expect(new Set(keys).size).toBe(5000);
    expect(isStrictlyAscending(keys)).toBe(true);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(MAX_KEY_LENGTH);
  });

  it('keeps a strict total order equal to the model after any sequence of moves and inserts', () => {
    const op = fc.record({ item: fc.nat(), anchor: fc.nat(), side: fc.constantFrom('before' as const, 'after' as const), insert: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.array(op, { minLength: 1, maxLength: 200 }), (start, ops) => {
        let list: Item[] = evenKeys(start).map((key, id) => ({ id, key }));
        let nextId = start;
        for (const o of ops) {
          const anchor = list[o.anchor % list.length]!.id;
          const item = o.insert ? nextId++ : list[o.item % list.length]!.id;
          if (item === anchor) continue;
          list = place(list, item, anchor, o.side);
          const keys = list.map((i) => i.key);
          // The model's order is the keys' order, and no two keys are equal.
          if (!isStrictlyAscending(keys)) return false;
          if ([...keys].sort(compareKeys).join() !== keys.join()) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('lengthens keys slowly when everything goes into one gap', () => {
    // The worst case the service respaces: always just after the first item.
    let list: Item[] = evenKeys(2).map((key, id) => ({ id, key }));
    for (let id = 2; id < 400; id++) list = place(list, id, 0, 'after');
    expect(isStrictlyAscending(list.map((i) => i.key))).toBe(true);
    const longest = Math.max(...list.map((i) => i.key.length));
    expect(longest).toBeGreaterThan(MAX_KEY_LENGTH);
    // About one character per six inserts (README), so a respacing is rare.
    expect(longest).toBeLessThan(2 + 400 / 5);
  });
});
