// One error type for everything the API reports to a client. The code is stable and
// documented; the status follows from the code so handlers cannot pick inconsistent pairs.

export const errorStatus = {
  validation_failed: 400,
  /** An emailed link's token that was never issued. */
  link_invalid: 400,
  bad_request: 400,
  /** A wrong, replayed or stale two-factor code (or an unknown or used recovery code). */
  two_factor_code_invalid: 400,
  invalid_signature: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  token_expired: 401,
  token_revoked: 401,
  refresh_token_reused: 401,
  /** A sign-in's two-factor step: a challenge token that was never issued. */
  challenge_invalid: 401,
  /** A sign-in's two-factor step: the challenge expired or was already used; sign in again. */
  challenge_expired: 401,
  forbidden: 403,
  account_suspended: 403,
  account_banned: 403,
  account_restricted: 403,
  own_stream: 403,
  /** A subscriber-only video or chat: only the channel's subscribers (and its owner, and staff) get it. */
  subscribers_only: 403,
  not_found: 404,
  conflict: 409,
  insufficient_funds: 409,
  stream_not_live: 409,
  idempotency_key_reused: 409,
  payment_expired: 409,
  /** An emailed link's token that was already spent. */
  link_used: 410,
  link_expired: 410,
  payload_too_large: 413,
  invalid_media: 422,
  unprocessable: 422,
  limit_reached: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    details?: unknown,
    /** `cause`: what went wrong inside, for the log only; never sent to the client. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): (typeof errorStatus)[ErrorCode] {
    return errorStatus[this.code];
  }
}

export interface ErrorBody {
  success: false;
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { success: false, error: details === undefined ? { code, message } : { code, message, details } };
}
