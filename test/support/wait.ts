import { sleep } from '../../lib/async.ts';

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that. The
 * deadline only keeps a broken run from hanging; the test asserts on what comes back.
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
