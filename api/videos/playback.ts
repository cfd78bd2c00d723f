import { createHmac } from 'node:crypto';
import { secretsEqual } from '../../lib/secrets.ts';

// Signed playback for private and unlisted videos: `?token=<expires>.<signature>` on the
// playlist URLs the API serves (and on age-restricted live HLS, api/internal/hls-access.ts).
// The signature binds the video (or stream) id and the expiry; the key is derived from the
// JWT secret so no extra secret needs managing, and cannot be confused with an access token.

export interface PlaybackSigner {
  sign(videoId: string, expiresAt: Date): string;
  /** The token's expiry when it is valid for this video now, otherwise null. */
  verify(videoId: string, token: string | undefined, now?: Date): Date | null;
}

/**
 * Derives the key once: every playlist request verifies a token. `live` tokens (for live HLS,
 * checked by nginx through the API) use a key of their own, so neither kind opens the other.
 */
export function createPlaybackSigner(secret: string, kind: 'video' | 'live' = 'video'): PlaybackSigner {
  const key = createHmac('sha256', secret).update(kind === 'video' ? 'streamhub playback v1' : 'streamhub live playback v1').digest();
  const signature = (videoId: string, expiresAtSeconds: number) => createHmac('sha256', key).update(`${videoId}.${expiresAtSeconds}`).digest('base64url');
  return {
    sign(videoId, expiresAt) {
      const expires = Math.floor(expiresAt.getTime() / 1000);
      return `${expires}.${signature(videoId, expires)}`;
    },
    verify(videoId, token, now = new Date()) {
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
      if (!match) return null;
      const expires = Number(match[1]);
      if (expires * 1000 <= now.getTime()) return null;
      return secretsEqual(match[2], signature(videoId, expires)) ? new Date(expires * 1000) : null;
    },
  };
}
