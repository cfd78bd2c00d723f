import type { Db } from '../../lib/db.ts';
import type { PlaybackSigner } from '../videos/playback.ts';
import { createRouter } from '../router.ts';

// nginx asks before it serves a live HLS file (auth_request): 204 serves it, 403 refuses it.
// An age-restricted stream plays only with the live playback token the API gives signed-in
// viewers in `playbackUrl`; any other stream plays for anyone. nginx caches each answer for
// a few seconds per stream and token (scripts/stack/nginx.ts).

const hlsFile = /^\/hls\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-\d{1,10})?\.(?:m3u8|ts)(?:\?(.*))?$/;

/** The stream and token a live HLS request names (its path and query as the viewer sent them), or null for any other path. */
export function hlsRequestOf(uri: string): { streamId: string; token: string | undefined } | null {
  const match = hlsFile.exec(uri);
  if (!match) return null;
  const token = new URLSearchParams(match[2] ?? '').get('token') ?? undefined;
  return { streamId: match[1]!, token };
}

export function hlsAccessRoutes(deps: { db: Db; livePlayback: PlaybackSigner }) {
  const router = createRouter();
  router.get('/', async (c) => {
    const request = hlsRequestOf(c.req.header('x-original-uri') ?? '');
    if (!request) return c.body(null, 403);
    const stream = await deps.db.selectFrom('streams').select('age_restricted_at').where('id', '=', request.streamId).executeTakeFirst();
    if (!stream) return c.body(null, 403);
    if (stream.age_restricted_at && !deps.livePlayback.verify(request.streamId, request.token)) return c.body(null, 403);
    return c.body(null, 204);
  });
  return router;
}
