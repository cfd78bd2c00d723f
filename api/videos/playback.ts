import { createHmac } from 'node:crypto';
import { secretsEqual } from '../../lib/secrets.ts';

// Signed playback for private and unlisted videos: `?token=<expires>.<signature>` on the
// playlist URLs the API serves. The signature binds the video id and the expiry; the key is
// derived from the JWT secret so no extra secret needs managing, and cannot be confused
// with an access token.

function signature(secret: string, videoId: string, expiresAtSeconds: number): string {
  const key = createHmac('sha256', secret).update('streamhub playback v1').digest();
  return createHmac('sha256', key).update(`${videoId}.${expiresAtSeconds}`).digest('base64url');
}

export function signPlaybackToken(secret: string, videoId: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${expires}.${signature(secret, videoId, expires)}`;
}

/** The token's expiry when it is valid for this video now, otherwise null. */
export function verifyPlaybackToken(secret: string, videoId: string, token: string | undefined, now = new Date()): Date | null {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!match) return null;
  const expires = Number(match[1]);
  if (expires * 1000 <= now.getTime()) return null;
  return secretsEqual(match[2], signature(secret, videoId, expires)) ? new Date(expires * 1000) : null;
}
