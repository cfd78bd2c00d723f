// What the realtime bench's processes tell each other over IPC, how a client reads a chat
// frame, and the latency histogram the clients fill and the parent merges.

/** Wall-clock milliseconds with sub-ms precision, comparable across processes on one machine. */
export const wallClockMs = () => performance.timeOrigin + performance.now();

export interface SocketPlan {
  url: string;
  /** Index of the room in the bench's layout. */
  room: number;
  /** Sent once the socket is open; the socket counts as ready when `joined` comes back. */
  join?: string;
}

export type ToClients =
  | { type: 'connect'; sockets: SocketPlan[]; concurrency: number }
  /** Only chat frames sent in [fromMs, toMs) are counted. */
  | { type: 'window'; fromMs: number; toMs: number }
  | { type: 'progress' }
  | { type: 'report' };

export type FromClients =
  | { type: 'ready'; joinedPerRoom: number[]; failed: number; firstError?: string }
  | { type: 'progress'; delivered: number }
  | {
      type: 'report';
      delivered: number;
      histogram: [bucket: number, count: number][];
      maxMs: number;
      lastReceiveMs: number;
      /** Sockets the server closed after they were ready. */
      dropped: number;
    };

// Both servers send the gateway's chat frame, {"type":"chat",…,"text":"<sent at>",…}. A
// byte search instead of JSON.parse keeps the clients' CPU (on the same 2 cores as the
// server under test) low and equal for both servers; other frames (viewers …) are skipped.
const CHAT_TYPE = Buffer.from('"type":"chat"');
const TEXT_KEY = Buffer.from('"text":"');

/** The send time a chat frame carries in its text, or undefined for any other frame. */
export function chatSentAt(frame: Buffer): number | undefined {
  if (frame.indexOf(CHAT_TYPE) < 0) return undefined;
  const key = frame.indexOf(TEXT_KEY);
  if (key < 0) return undefined;
  const start = key + TEXT_KEY.length;
  const sentAt = Number(frame.toString('latin1', start, frame.indexOf(0x22, start)));
  return Number.isFinite(sentAt) ? sentAt : undefined;
}

export const BUCKET_MS = 0.1;

export class LatencyHistogram {
  readonly counts = new Map<number, number>();
  count = 0;
  maxMs = 0;

  add(ms: number): void {
    const bucket = Math.max(0, Math.floor(ms / BUCKET_MS));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(entries: [number, number][], maxMs: number): void {
    for (const [bucket, n] of entries) {
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n);
      this.count += n;
    }
    this.maxMs = Math.max(this.maxMs, maxMs);
  }

  /** The upper edge of the bucket holding the p-th percentile. */
  percentile(p: number): number {
    if (!this.count) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const [bucket, n] of [...this.counts].sort((a, b) => a[0] - b[0])) {
      seen += n;
      if (seen >= rank) return (bucket + 1) * BUCKET_MS;
    }
    return this.maxMs;
  }
}
