import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { acceptedContainer, formatDuration, mediaLimitViolation, refusedContainerReason } from '../../lib/media-rules.ts';
import type { MediaInfo, VideoStreamInfo } from '../../workflows/plans/media-info.ts';

const required = { S3_ACCESS_KEY_ID: 'streamhub', S3_SECRET_ACCESS_KEY: 'x'.repeat(20), INTERNAL_SECRET: 'y'.repeat(20), JWT_SECRET: 'z'.repeat(40) };
const limits = parseConfig(required).media;

function source(video: Partial<VideoStreamInfo> | null, durationSeconds = 60): MediaInfo {
  return {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds,
    sizeBytes: 1_000_000,
    bitrateKbps: null,
    video: video && { codec: 'h264', width: 1920, height: 1080, rotation: 0, fps: 30, bitrateKbps: 8000, ...video },
    audio: { codec: 'aac', channels: 2, sampleRate: 48000, bitrateKbps: 128 },
  };
}

describe('accepted containers', () => {
  it('names the demuxer to force for self-contained formats FFmpeg detected', () => {
    expect(acceptedContainer('mov,mp4,m4a,3gp,3g2,mj2')).toBe('mov');
    expect(acceptedContainer('matroska,webm')).toBe('matroska');
    expect(acceptedContainer('flv')).toBe('flv');
    expect(acceptedContainer('mpegts')).toBe('mpegts');
    expect(acceptedContainer('mp3')).toBe('mp3');
  });

  it('refuses playlists, lists, session descriptions, images and manifests, saying what the file is', () => {
    for (const refused of ['hls', 'concat', 'sdp', 'rtsp', 'image2', 'png_pipe', 'jpeg_pipe', 'tty', 'dash', 'webm_dash_manifest', 'lavfi', 'mxf']) {
      expect(acceptedContainer(refused), refused).toBeNull();
    }
    const upload = '; upload the video itself as one file (MP4, MOV, MKV, WebM, AVI, FLV, MPEG-TS, Ogg, WMV, MP3, WAV or FLAC)';
    expect(refusedContainerReason('hls')).toBe(`Not an accepted video or audio file: this file is an HLS playlist, which is not accepted${upload}`);
    expect(refusedContainerReason('concat')).toBe(`Not an accepted video or audio file: this file is a list of other files (FFmpeg concat), which is not accepted${upload}`);
    expect(refusedContainerReason('sdp')).toBe(`Not an accepted video or audio file: this file is a network session description (SDP), which is not accepted${upload}`);
    expect(refusedContainerReason('png_pipe')).toBe(`Not an accepted video or audio file: this file is an image or an image sequence, which is not accepted${upload}`);
    expect(refusedContainerReason('mxf')).toBe(`Not an accepted video or audio file: this file is in the "mxf" format, which is not accepted${upload}`);
  });
});

describe('media cost limits', () => {
  it('defaults to 12 h, 7680×4320, 120 fps and the pixel rate of 3840×2160 at 60 fps', () => {
    expect(limits).toEqual({ maxDurationSeconds: 43_200, maxWidth: 7680, maxHeight: 4320, maxFps: 120, maxPixelsPerSecond: 497_664_000 });
    const custom = parseConfig({ ...required, MEDIA_MAX_DURATION_SECONDS: '600', MEDIA_MAX_FPS: '60' }).media;
    expect(custom).toMatchObject({ maxDurationSeconds: 600, maxFps: 60 });
  });

  it('allows exactly 12 h and refuses a second more', () => {
    expect(mediaLimitViolation(source({}, 43_200), limits)).toBeNull();
    expect(mediaLimitViolation(source({}, 43_201), limits)).toBe('The file is 12 h 1 s long; videos may be at most 12 h');
    expect(mediaLimitViolation(source(null, 43_200.5), limits)).toBe('The file is 12 h 1 s long; videos may be at most 12 h');
  });

  it('allows 7680×4320 in either orientation and refuses a pixel more on either side', () => {
    expect(mediaLimitViolation(source({ width: 7680, height: 4320, fps: 15 }), limits)).toBeNull();
    expect(mediaLimitViolation(source({ width: 4320, height: 7680, fps: 15 }), limits)).toBeNull();
    // Stored landscape, shown portrait: the size a viewer sees is checked.
    expect(mediaLimitViolation(source({ width: 7680, height: 4320, rotation: 90, fps: 15 }), limits)).toBeNull();
    expect(mediaLimitViolation(source({ width: 7682, height: 4320, fps: 15 }), limits)).toBe(
      'The video is 7682×4320; videos may be at most 7680×4320 (either orientation)',
    );
    expect(mediaLimitViolation(source({ width: 4322, height: 4322, fps: 15 }), limits)).toBe(
      'The video is 4322×4322; videos may be at most 7680×4320 (either orientation)',
    );
  });

  it('allows 120 fps and refuses more', () => {
    expect(mediaLimitViolation(source({ width: 640, height: 360, fps: 120 }), limits)).toBeNull();
    expect(mediaLimitViolation(source({ width: 640, height: 360, fps: 120.5 }), limits)).toBe('The video runs at 120.5 frames per second; at most 120 are accepted');
  });

  it('allows the pixel rate of 4K60 and refuses one more pixel per second', () => {
    expect(mediaLimitViolation(source({ width: 3840, height: 2160, fps: 60 }), limits)).toBeNull();
    expect(mediaLimitViolation(source({ width: 1920, height: 1080, fps: 120 }), limits)).toBeNull();
    expect(mediaLimitViolation(source({ width: 7680, height: 4320, fps: 30 }), limits)).toBe(
      'The video is 7680×4320 at 30 frames per second, 995,328,000 pixels per second; at most 497,664,000 are accepted',
    );
    expect(mediaLimitViolation(source({ width: 3840, height: 2160, fps: 60 }), { ...limits, maxPixelsPerSecond: 3840 * 2160 * 60 - 1 })).toBe(
      'The video is 3840×2160 at 60 frames per second, 497,664,000 pixels per second; at most 497,663,999 are accepted',
    );
  });

  it('checks only duration for audio-only sources', () => {
    expect(mediaLimitViolation(source(null, 3600), limits)).toBeNull();
  });

  it('writes durations as people read them', () => {
    expect([formatDuration(0), formatDuration(45), formatDuration(5400), formatDuration(43_200), formatDuration(3661.2)]).toEqual([
      '0 s', '45 s', '1 h 30 min', '12 h', '1 h 1 min 2 s',
    ]);
  });
});
