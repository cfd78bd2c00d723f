import type { SignOutReason } from './realtime-contract.ts';
import type { Nats } from './nats.ts';

export type { SignOutReason } from './realtime-contract.ts';

export const signOutMessages: Record<SignOutReason, string> = {
  logout: 'This session was logged out',
  refresh_token_reused: 'This session was revoked because its refresh token was used twice',
  session_ended: 'This session has ended',
  token_expired: 'Your access token expired; send a fresh one in an auth frame',
  account_banned: 'This account is banned',
  account_suspended: 'This account is suspended',
  account_deleted: 'This account no longer exists',
};

/**
 * Payload of `auth.sign_outs`: every gateway signs out the user's sockets of that session
 * (or of every session, without `sessionId`: a ban or suspension).
 */
export interface SignOut {
  userId: string;
  sessionId?: string;
  reason: SignOutReason;
}

export function signOutSubject(nats: Nats): string {
  return nats.subject('auth.sign_outs');
}

/**
 * Tells every gateway at once; call it after the change is committed. Never throws: a
 * message NATS cannot take (connection closed) is caught by each gateway's periodic session
 * check instead, and must not turn a committed logout into an error.
 */
export function publishSignOut(nats: Nats, signOut: SignOut): boolean {
  try {
    nats.connection.publish(signOutSubject(nats), JSON.stringify(signOut));
    return true;
  } catch {
    return false;
  }
}
