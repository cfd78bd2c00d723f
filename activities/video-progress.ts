import type { Db } from '../lib/db.ts';
import type { Nats } from '../lib/nats.ts';
import { publishVideoProgress } from '../lib/videos.ts';

/** The overall percentage each step of a transcode ends at; encoding is nearly all the work. */
export const PROGRESS = { encoded: 95, ready: 100 } as const;

const DB_INTERVAL_MS = 2000;
const NATS_INTERVAL_MS = 500;

interface Log {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Carries one transcode's percentage to the database (at most every 2 s: API readers poll
 * it) and to NATS `video.<id>.progress` (at most twice a second: the owner's socket). The
 * stored figure never goes down, so a retried encode does not make the bar jump back.
 */
export function createProgressReporter(deps: { db: Db; nats: Nats }, videoId: string, log: Log) {
  let lastDbAt = 0;
  let lastNatsAt = 0;
  let lastPercent = -1;
  let writing: Promise<void> | undefined;

  const store = (percent: number) =>
    deps.db
      .updateTable('videos')
      .set({ progress: percent, updated_at: new Date() })
      .where('id', '=', videoId)
      .where('status', '=', 'processing')
      .where('progress', '<', percent)
      .execute()
      .then(() => undefined);

  return {
    report(percent: number): void {
      if (percent === lastPercent) return;
      lastPercent = percent;
      const now = Date.now();
      if (now - lastNatsAt >= NATS_INTERVAL_MS) {
        lastNatsAt = now;
        publishVideoProgress(deps.nats, { videoId, percent, status: 'processing' });
      }
      // One write in flight at most: a slow database must not pile up updates.
      if (now - lastDbAt >= DB_INTERVAL_MS && !writing) {
        lastDbAt = now;
        writing = store(percent)
          .catch((err: unknown) => log.warn('could not store video progress', { videoId, error: String(err) }))
          .finally(() => (writing = undefined));
      }
    },
    /** Stores and announces a step's final figure, waiting for the write. */
    async flush(percent: number): Promise<void> {
      await writing;
      lastPercent = percent;
      publishVideoProgress(deps.nats, { videoId, percent, status: 'processing' });
      await store(percent);
    },
  };
}
