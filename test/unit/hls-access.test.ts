import { describe, expect, it } from 'vitest';
import { hlsRequestOf } from '../../api/internal/hls-access.ts';

const id = '0b6f2a43-5f7e-4d2a-9c1e-2f0d5a7b8c9d';

describe('live HLS requests', () => {
  it('names the stream of a playlist or a segment, with its token', () => {
    expect(hlsRequestOf(`/hls/${id}.m3u8`)).toEqual({ streamId: id, token: undefined });
    expect(hlsRequestOf(`/hls/${id}-17.ts?token=1767225600.abc`)).toEqual({ streamId: id, token: '1767225600.abc' });
    expect(hlsRequestOf(`/hls/${id}.m3u8?x=1&token=t`)).toEqual({ streamId: id, token: 't' });
  });

  it('names nothing for any other path, so nginx refuses it', () => {
    for (const uri of ['/hls/index.m3u8', `/hls/${id}.mp4`, `/hls/../${id}.m3u8`, `/hls/${id}/x.ts`, `/other/${id}.m3u8`, '', `/hls/${id.toUpperCase()}.m3u8`]) {
      expect(hlsRequestOf(uri), uri).toBeNull();
    }
  });
});
