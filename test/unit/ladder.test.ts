import { describe, expect, it } from 'vitest';
import { planLadder, UnplayableMediaError } from '../../workflows/plans/ladder.ts';
import type { MediaInfo, VideoStreamInfo } from '../../workflows/plans/media-info.ts';

const stereo = { codec: 'aac', channels: 2, sampleRate: 48000, bitrateKbps: 128 };
function source(video: Partial<VideoStreamInfo> | null, audio: MediaInfo['audio'] = stereo): MediaInfo {
  return {
    formatName: 'mov,mp4',
    durationSeconds: 10,
    sizeBytes: 1_000_000,
    bitrateKbps: null,
    video: video && { codec: 'h264', width: 1920, height: 1080, rotation: 0, fps: 30, bitrateKbps: 8000, ...video },
    audio,
  };
}
const sizes = (info: MediaInfo) => planLadder(info).renditions.map((r) => `${r.width}x${r.height}`);

describe('planLadder', () => {
  it('plans the four rungs for a 1080p landscape source', () => {
    const plan = planLadder(source({}));
    expect(plan.kind).toBe('video+audio');
    expect(plan.renditions.map((r) => [r.name, r.width, r.height, r.fps, r.videoKbps])).toEqual([
      ['1080p', 1920, 1080, 30, 5000],
      ['720p', 1280, 720, 30, 2800],
      ['480p', 854, 480, 30, 1400],
      ['360p', 640, 360, 30, 800],
    ]);
    expect(plan.audio).toEqual({ codec: 'aac', kbps: 128, channels: 2, sampleRate: 48000 });
    expect(plan.segmentSeconds).toBe(4);
  });

  it('never upscales, and keeps a source rung that is not on the ladder', () => {
    expect(sizes(source({ width: 1280, height: 720 }))).toEqual(['1280x720', '854x480', '640x360']);
    expect(sizes(source({ width: 960, height: 540 }))).toEqual(['960x540', '854x480', '640x360']);
    expect(sizes(source({ width: 320, height: 240 }))).toEqual(['320x240']);
    expect(sizes(source({ width: 3840, height: 2160 }))).toEqual(['3840x2160', '1920x1080', '1280x720', '854x480', '640x360']);
  });

  it('plans portrait video by its short side, whether coded so or rotated', () => {
    const expected = ['1080x1920', '720x1280', '480x854', '360x640'];
    expect(sizes(source({ width: 1080, height: 1920 }))).toEqual(expected);
    expect(sizes(source({ width: 1920, height: 1080, rotation: 90 }))).toEqual(expected);
    expect(planLadder(source({ width: 1080, height: 1920 })).renditions[0]!.name).toBe('1080p');
  });

  it('makes odd dimensions even without exceeding the source', () => {
    const plan = planLadder(source({ width: 1279, height: 719 }));
    expect(sizes(source({ width: 1279, height: 719 }))).toEqual(['1278x718', '854x480', '640x360']);
    for (const r of plan.renditions) expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
  });

  it('caps frame rate at 60 and spends more bits on high frame rates', () => {
    const sixty = planLadder(source({ fps: 60, bitrateKbps: 20_000 }));
    expect(sixty.renditions.map((r) => [r.name, r.fps, r.videoKbps])[0]).toEqual(['1080p60', 60, 7500]);
    expect(planLadder(source({ fps: 120 })).renditions[0]!.fps).toBe(60);
    expect(planLadder(source({ fps: 23.976 })).renditions[0]!.fps).toBe(23.98);
  });

  it('caps bitrates at the source bitrate', () => {
    const plan = planLadder(source({ bitrateKbps: 1000 }));
    expect(plan.renditions.map((r) => r.videoKbps)).toEqual([1000, 1000, 1000, 800]);
    expect(planLadder(source({ bitrateKbps: 50 })).renditions.every((r) => r.videoKbps === 200)).toBe(true);
  });

  it('handles audio-only and video-only sources', () => {
    const audioOnly = planLadder(source(null, { codec: 'mp3', channels: 1, sampleRate: 44100, bitrateKbps: 64 }));
    expect(audioOnly).toMatchObject({ kind: 'audio-only', renditions: [], audio: { kbps: 96, channels: 1, sampleRate: 44100 } });
    const videoOnly = planLadder(source({}, null));
    expect(videoOnly.kind).toBe('video-only');
    expect(videoOnly.audio).toBeNull();
    expect(videoOnly.renditions).toHaveLength(4);
  });

  it('refuses sources with nothing playable, with a reason a person understands', () => {
    expect(() => planLadder(source(null, null))).toThrow(new UnplayableMediaError('The file has neither a video nor an audio stream'));
    expect(() => planLadder(source({ width: 8, height: 8 }))).toThrow(UnplayableMediaError);
    expect(() => planLadder(source({ fps: 0 }))).toThrow(/frame rate/);
  });
});
