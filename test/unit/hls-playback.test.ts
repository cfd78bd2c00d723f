import { describe, expect, it } from 'vitest';
import { newestLiveSegment, parseMasterPlaylist, segmentAt, playlistUris, rewritePlaylistUris } from '../../lib/hls.ts';
import { createPlaybackSigner } from '../../api/videos/playback.ts';

const master = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=3144000,RESOLUTION=1280x720,CODECS="avc1.640020,mp4a.40.2"
720p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=1012000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"
360p/index.m3u8
`;

const media = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:4.000000,
segment_00000.ts
#EXTINF:1.500000,
segment_00001.ts
#EXT-X-ENDLIST
`;

describe('HLS playlists', () => {
  it('reads the variants of a master playlist, quoted attributes included', () => {
    expect(parseMasterPlaylist(master)).toEqual([
      { uri: '720p/index.m3u8', bandwidth: 3144000, resolution: { width: 1280, height: 720 }, codecs: 'avc1.640020,mp4a.40.2' },
      { uri: '360p/index.m3u8', bandwidth: 1012000, resolution: { width: 640, height: 360 }, codecs: 'avc1.64001e,mp4a.40.2' },
    ]);
    expect(parseMasterPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\naudio/index.m3u8\n')).toEqual([
      { uri: 'audio/index.m3u8', bandwidth: 140000, resolution: null, codecs: 'mp4a.40.2' },
    ]);
  });

  it('rewrites only URI lines and keeps every tag', () => {
    const rewritten = rewritePlaylistUris(media, (uri) => `https://s3.example/${uri}?sig=1`);
    expect(playlistUris(rewritten)).toEqual(['https://s3.example/segment_00000.ts?sig=1', 'https://s3.example/segment_00001.ts?sig=1']);
    expect(rewritten.split('\n').filter((l) => l.startsWith('#'))).toEqual(media.split('\n').filter((l) => l.startsWith('#')));
  });
});

describe('playback tokens', () => {
  const signer = createPlaybackSigner('x'.repeat(40));
  const videoId = '6f1c2b8e-8a44-4a55-9b0e-2f4a1c9d7e10';
  const now = new Date('2026-11-24T12:00:00Z');
  const later = new Date('2026-11-24T13:00:00Z');

  it('accepts its own token for its video until it expires', () => {
    const token = signer.sign(videoId, later);
    expect(signer.verify(videoId, token, now)).toEqual(later);
    expect(signer.verify(videoId, token, new Date(later.getTime() + 1000))).toBeNull();
  });

  it('refuses another video, another secret, a changed expiry and garbage', () => {
    const token = signer.sign(videoId, later);
    expect(signer.verify('00000000-0000-4000-8000-000000000000', token, now)).toBeNull();
    expect(createPlaybackSigner('y'.repeat(40)).verify(videoId, token, now)).toBeNull();
    const [expires, sig] = token.split('.');
    expect(signer.verify(videoId, `${Number(expires) + 3600}.${sig}`, now)).toBeNull();
    for (const bad of [undefined, '', 'abc', `${expires}.`, `${expires}.${sig}x`]) expect(signer.verify(videoId, bad, now)).toBeNull();
  });
});

describe('newestLiveSegment', () => {
  const live = (...uris: string[]) => ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-MEDIA-SEQUENCE:7', '#EXT-X-TARGETDURATION:2', ...uris.flatMap((u) => ['#EXTINF:2.000,', u]), ''].join('\n');

  it('is the last segment a live playlist lists', () => {
    expect(newestLiveSegment(live('s-7.ts', 's-8.ts', 's-9.ts'))).toBe('s-9.ts');
  });

  it('is null for a playlist without segments, and for a name that is not a plain file beside the playlist', () => {
    expect(newestLiveSegment(live())).toBeNull();
    for (const name of ['../etc/passwd.ts', '/abs/s-9.ts', 'sub/s-9.ts', 'http://x/s-9.ts', 's-9.m3u8']) expect(newestLiveSegment(live('s-8.ts', name))).toBeNull();
  });
});

describe('segmentAt', () => {
  const vod = ['#EXTM3U', '#EXT-X-TARGETDURATION:4', '#EXTINF:4.000000,', 'segment_00000.ts', '#EXTINF:4.000000,', 'segment_00001.ts', '#EXTINF:2.000000,', 'segment_00002.ts', '#EXT-X-ENDLIST', ''].join('\n');

  it('is the segment holding the time, and the time within it', () => {
    expect(segmentAt(vod, 0)).toEqual({ uri: 'segment_00000.ts', offsetSeconds: 0 });
    expect(segmentAt(vod, 3.999)).toEqual({ uri: 'segment_00000.ts', offsetSeconds: 3.999 });
    expect(segmentAt(vod, 4)).toEqual({ uri: 'segment_00001.ts', offsetSeconds: 0 });
    expect(segmentAt(vod, 9.5)).toEqual({ uri: 'segment_00002.ts', offsetSeconds: 1.5 });
  });

  it('is null past the end, and for a segment that is not a plain file beside the playlist', () => {
    expect(segmentAt(vod, 10)).toBeNull();
    expect(segmentAt(vod.replace('segment_00001.ts', '../other/segment_00001.ts'), 5)).toBeNull();
    expect(segmentAt('#EXTM3U\n', 0)).toBeNull();
  });
});
