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

/** Unwraps a keyset page: its items and the cursor of the next one, or throws the envelope's error. */
export async function unwrapPage<T>(call: Promise<{ data?: { data: T[]; meta: { nextCursor: string | null } }; error?: unknown; response: Response }>): Promise<{ items: T[]; nextCursor: string | null }> {
  const res = await call;
  const items = await unwrap(Promise.resolve(res));
  return { items, nextCursor: res.data!.meta.nextCursor };
}

/** A 401 on these means wrong credentials or a dead refresh token, never "refresh and retry". */
const AUTH_PATH = /\/api\/v1\/auth\/(login|login\/two-factor|register|refresh)$/;

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
      // A refresh answers the new pair and its scope; the user stays who they were. A
      // sanctioned account's refresh is appeal-scoped (not refused), so the page does not
      // loop: it shows the appeal page; a lifted sanction's refresh is full again.
      const fresh = ((await res.json()) as { data: Pick<Session, 'accessToken' | 'refreshToken' | 'access' | 'restriction'> }).data;
      session.set({ accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, user: current.user, access: fresh.access ?? 'full', restriction: fresh.restriction ?? null });
      return session.get();
    };
    return navigator.locks ? navigator.locks.request('streamhub-refresh', run) : run();
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const RESTRICTED_CODES = new Set(['account_restricted', 'account_suspended', 'account_banned']);

/**
 * A 403 saying the account is suspended or banned (a sanction that came while signed in, or
 * an appeal-scoped token on another route): the session becomes appeal-only, so the app shows
 * the appeal page instead of failing request after request. Never a refresh: that would only
 * answer another appeal-scoped token.
 */
async function noteRestriction(response: Response): Promise<void> {
  const current = session.get();
  if (!current || current.access === 'appeal') return;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as ErrorEnvelope | undefined;
  if (RESTRICTED_CODES.has(body?.error?.code ?? '')) session.update({ access: 'appeal' });
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
    if (response.status === 403) await noteRestriction(response);
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
