// The typed API client: openapi-fetch over the generated schema (paths exactly as the API
// documents them), with the session's bearer token on every request and a transparent
// refresh when the access token has expired.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.ts';
import { session, type Session } from './session.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface ErrorEnvelope {
  error?: { code?: string; message?: string; details?: unknown };
}

/** Unwraps `{success, data}` or throws the envelope's error as an ApiError. */
export async function unwrap<T>(call: Promise<{ data?: { data: T }; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (data !== undefined && response.ok) return data.data;
  const body = (error ?? {}) as ErrorEnvelope;
  throw new ApiError(response.status, body.error?.code ?? 'http_error', body.error?.message ?? `Request failed (${response.status})`, body.error?.details);
}

/** A 401 on these means wrong credentials or a dead refresh token, never "refresh and retry". */
const AUTH_PATH = /\/api\/v1\/auth\/(login|register|refresh)$/;

let refreshing: Promise<Session | null> | null = null;

/**
 * Trades the refresh token for a new pair, one refresh at a time in this tab and across tabs
 * (Web Locks): refresh tokens rotate, and presenting a used one revokes the whole session.
 * Another tab may have refreshed meanwhile; then its tokens are used. Refused: signed out.
 */
export function refreshSession(staleAccessToken: string): Promise<Session | null> {
  refreshing ??= (async () => {
    const run = async (): Promise<Session | null> => {
      const current = session.reload();
      if (!current) return null;
      if (current.accessToken !== staleAccessToken) return current;
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: current.refreshToken }),
      }).catch(() => undefined);
      if (!res) return current; // offline: keep the session, the request fails as it was
      if (!res.ok) {
        session.set(null);
        return null;
      }
      // A refresh answers the new pair only; the user stays who they were.
      const fresh = ((await res.json()) as { data: Pick<Session, 'accessToken' | 'refreshToken'> }).data;
      session.set({ accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, user: current.user });
      return session.get();
    };
    return navigator.locks ? navigator.locks.request('streamhub-refresh', run) : run();
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const retryCopies = new Map<string, Request>();

export const authMiddleware: Middleware = {
  onRequest({ request, id }) {
    const token = session.get()?.accessToken;
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    // Kept to send again after a refresh: a sent request's body cannot be read twice.
    if (token && !AUTH_PATH.test(new URL(request.url).pathname)) retryCopies.set(id, request.clone());
    return request;
  },
  async onResponse({ request, response, id }) {
    const copy = retryCopies.get(id);
    retryCopies.delete(id);
    if (response.status !== 401 || !copy) return response;
    const sent = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    const fresh = await refreshSession(sent);
    if (!fresh) return response;
    copy.headers.set('authorization', `Bearer ${fresh.accessToken}`);
    return fetch(copy);
  },
  onError({ id }) {
    retryCopies.delete(id);
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(authMiddleware);
