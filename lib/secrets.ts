import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison that also hides the length of the expected secret. */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether a request comes from an operator or the platform itself: it carries INTERNAL_SECRET
 * as `x-internal-secret` or as `Authorization: Bearer <secret>` (what Prometheus scrapers send).
 * Used for `/health` details and `/metrics` on the public ports.
 */
export function isInternalCaller(header: (name: string) => string | undefined, secret: string): boolean {
  const bearer = header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  return secretsEqual(header('x-internal-secret') ?? bearer, secret);
}
