/**
 * Values loaded on demand and trusted for a while; cleared wholesale when it grows too large.
 * Concurrent misses for one key share one load.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: Promise<V>; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  /** Values not worth remembering (e.g. "not found", which may change at any moment). */
  private readonly keepIf: (value: V) => boolean;

  constructor(ttlMs: number, maxEntries = 50_000, keepIf: (value: V) => boolean = () => true) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.keepIf = keepIf;
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = load();
    const entry = { value, expires: Date.now() + this.ttlMs };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    value.then((v) => !this.keepIf(v) && forget(), forget);
    return value;
  }

  /** Forgets a key at once (its value changed): the next `get` loads it again. */
  delete(key: K): void {
    this.entries.delete(key);
  }
}
