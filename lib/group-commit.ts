// Group commit: requests that arrive while earlier ones are being written go to the database
// together, in one statement and one commit, instead of one round trip and one WAL flush each.
// Reads batch the same way: a batch starts after each of its requests arrived, so every request
// sees what had committed before it asked. There is no timer: a request that finds a free slot
// goes at once (alone, if alone), so batching adds no latency when the system is idle and grows
// with the load on its own.

export interface GroupCommitOptions<I, O> {
  /** Writes a batch; answers one outcome per item, in the items' order. A throw fails every item with it. */
  commit(items: readonly I[]): Promise<PromiseSettledResult<O>[]>;
  /** Items with the same key never share a batch (they wait for a later one, in arrival order). Without it any items may. */
  keyOf?(item: I): string;
  /** Most items per batch. */
  maxBatch: number;
  /** Batches being written at once; arrivals wait while all are busy, then go together. */
  maxInFlight: number;
  /** Told each batch's size as it starts (for metrics). */
  onBatch?(size: number): void;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

/** A function that writes an item through the group commit and answers its own outcome. */
export function groupCommit<I, O>(options: GroupCommitOptions<I, O>): (item: I) => Promise<O> {
  if (!(options.maxBatch >= 1 && options.maxInFlight >= 1)) throw new RangeError('groupCommit needs maxBatch and maxInFlight of at least 1');
  let queue: Waiting<I, O>[] = [];
  let inFlight = 0;

  const takeBatch = (): Waiting<I, O>[] => {
    const batch: Waiting<I, O>[] = [];
    const keys = new Set<string>();
    const left: Waiting<I, O>[] = [];
    for (const waiting of queue) {
      const key = options.keyOf?.(waiting.item);
      if (batch.length < options.maxBatch && (key === undefined || !keys.has(key))) {
        if (key !== undefined) keys.add(key);
        batch.push(waiting);
      } else {
        left.push(waiting);
      }
    }
    queue = left;
    return batch;
  };

  const write = async (batch: Waiting<I, O>[]) => {
    try {
      const outcomes = await options.commit(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) throw new Error(`group commit answered ${outcomes.length} outcomes for ${batch.length} items`);
      outcomes.forEach((outcome, i) => (outcome.status === 'fulfilled' ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.reason)));
    } catch (err) {
      for (const waiting of batch) waiting.reject(err);
    }
  };

  const pump = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      inFlight++;
      options.onBatch?.(batch.length);
      void write(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}
