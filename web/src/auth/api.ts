// Signing in and out. The session (api/session.ts) holds what these return.
import { api, unwrap } from '../api/client.ts';
import { session, type Session } from '../api/session.ts';

const keep = (s: Pick<Session, 'accessToken' | 'refreshToken' | 'user' | 'access' | 'restriction'>) =>
  session.set({ accessToken: s.accessToken, refreshToken: s.refreshToken, user: s.user, access: s.access ?? 'full', restriction: s.restriction ?? null });

export async function register(body: { email: string; username: string; password: string }) {
  keep(await unwrap(api.POST('/api/v1/auth/register', { body })));
}

export interface TwoFactorChallenge {
  challengeToken: string;
  expiresAt: string;
}

/** Signs in, or answers the challenge an account with two-factor sign-in needs a code for. */
export async function signIn(body: { login: string; password: string }): Promise<TwoFactorChallenge | null> {
  const answer = await unwrap(api.POST('/api/v1/auth/login', { body }));
  if ('twoFactorRequired' in answer) return { challengeToken: answer.challengeToken, expiresAt: answer.expiresAt };
  keep(answer);
  return null;
}

export async function completeSignIn(body: { challengeToken: string; code: string } | { challengeToken: string; recoveryCode: string }) {
  keep(await unwrap(api.POST('/api/v1/auth/login/two-factor', { body })));
}

/** Revokes the session on the server; the page is signed out whatever the answer. */
export async function signOut() {
  try {
    await api.POST('/api/v1/auth/logout', {});
  } finally {
    session.set(null);
  }
}
