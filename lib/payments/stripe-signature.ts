import { createHmac, timingSafeEqual } from 'node:crypto';

// Stripe's webhook signature scheme (https://docs.stripe.com/webhooks#verify-manually): the
// `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each v1 an
// HMAC-SHA256 keyed by the endpoint secret (the whole `whsec_…` string) over `<t>.<raw body>`.
// Several v1 values appear while a secret is being rolled. Pure: the clock is a parameter.

/** Stripe's own default: a signature older than this is refused, so a captured delivery cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing_header' | 'malformed_header' | 'no_v1_signature' | 'timestamp_too_old' | 'no_matching_signature';

export type SignatureCheck = { valid: true; timestamp: number } | { valid: false; failure: SignatureFailure };

const HEX_SHA256 = /^[0-9a-f]{64}$/;

function hmacHex(payload: string | Uint8Array, secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

/** The header value Stripe would send for this body, secret and time. */
export function stripeSignatureHeader(payload: string | Uint8Array, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmacHex(payload, secret, timestamp)}`;
}

/**
 * Checks a delivery the way Stripe's libraries do: some v1 signature matches (compared in
 * constant time) and the timestamp is at most `toleranceSeconds` old. A timestamp ahead of
 * our clock passes, as in Stripe's libraries: only age makes a replay.
 */
export function verifyStripeSignature(input: {
  payload: string | Uint8Array;
  header: string | undefined;
  secret: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): SignatureCheck {
  if (!input.header) return { valid: false, failure: 'missing_header' };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const item of input.header.split(',')) {
    const separator = item.indexOf('=');
    if (separator < 1) return { valid: false, failure: 'malformed_header' };
    const key = item.slice(0, separator).trim();
    const value = item.slice(separator + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return { valid: false, failure: 'malformed_header' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      signatures.push(value);
    }
    // Other schemes (v0 is Stripe's test-only scheme) are ignored, as Stripe's libraries do.
  }
  if (timestamp === undefined) return { valid: false, failure: 'malformed_header' };
  if (signatures.length === 0) return { valid: false, failure: 'no_v1_signature' };

  const expected = Buffer.from(hmacHex(input.payload, input.secret, timestamp), 'hex');
  // Every candidate is compared, so the time taken does not tell which one matched.
  let matched = false;
  for (const candidate of signatures) {
    if (HEX_SHA256.test(candidate) && timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  if (!matched) return { valid: false, failure: 'no_matching_signature' };
  if (input.nowSeconds - timestamp > (input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) {
    return { valid: false, failure: 'timestamp_too_old' };
  }
  return { valid: true, timestamp };
}
