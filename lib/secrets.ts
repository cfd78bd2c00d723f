import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison that also hides the length of the expected secret. */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
