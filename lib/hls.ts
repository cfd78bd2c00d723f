// Reading and rewriting HLS playlists (RFC 8216). Pure text functions.

export interface MasterVariant {
  uri: string;
  bandwidth: number;
  resolution: { width: number; height: number } | null;
  codecs: string | null;
}

/** Every line is a URI, blank, or a tag or comment starting with `#` (RFC 8216 §4.1). */
function isUriLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

function attribute(list: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|,)${name}=("[^"]*"|[^,]*)`).exec(list);
  return match?.[1]?.replace(/^"|"$/g, '');
}

/** The variants of a master playlist, in playlist order. */
export function parseMasterPlaylist(text: string): MasterVariant[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const variants: MasterVariant[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return;
    const list = line.slice('#EXT-X-STREAM-INF:'.length);
    const uri = lines.slice(i + 1).find(isUriLine);
    if (!uri) return;
    const resolution = /^(\d+)x(\d+)$/.exec(attribute(list, 'RESOLUTION') ?? '');
    variants.push({
      uri,
      bandwidth: Number(attribute(list, 'BANDWIDTH') ?? 0),
      resolution: resolution ? { width: Number(resolution[1]), height: Number(resolution[2]) } : null,
      codecs: attribute(list, 'CODECS') ?? null,
    });
  });
  return variants;
}

/**
 * Replaces every URI line of a playlist (segments or variant playlists) with `map(uri)`.
 * Tags and comments pass through unchanged; URIs inside tags (keys, maps) are not used by
 * our encodes and are left alone.
 */
export function rewritePlaylistUris(text: string, map: (uri: string) => string): string {
  return text
    .split(/\r?\n/)
    .map((line) => (isUriLine(line) ? map(line.trim()) : line))
    .join('\n');
}

/** The URI lines of a playlist, in order. */
export function playlistUris(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter(isUriLine)
    .map((l) => l.trim());
}

/** How our encoder and nginx-rtmp name segments: a plain file beside the playlist. Nothing else is ever read. */
const PLAIN_SEGMENT = /^[\w-]+\.ts$/;

/**
 * The segment of a media playlist that holds `atSeconds`, and where in it that time is; null
 * past the end, or when the segment's name is not a plain file beside the playlist.
 */
export function segmentAt(playlist: string, atSeconds: number): { uri: string; offsetSeconds: number } | null {
  let start = 0;
  let duration: number | null = null;
  for (const raw of playlist.split(/\r?\n/)) {
    const line = raw.trim();
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    if (!isUriLine(line) || duration === null) continue;
    if (atSeconds < start + duration) return PLAIN_SEGMENT.test(line) ? { uri: line, offsetSeconds: Math.max(0, atSeconds - start) } : null;
    start += duration;
    duration = null;
  }
  return null;
}

/**
 * The newest complete segment a live media playlist lists, if its name is a plain file name
 * (nginx-rtmp writes `<name>-<n>.ts` beside the playlist); anything else is never read.
 */
export function newestLiveSegment(playlist: string): string | null {
  const newest = playlistUris(playlist).at(-1);
  return newest && PLAIN_SEGMENT.test(newest) ? newest : null;
}
