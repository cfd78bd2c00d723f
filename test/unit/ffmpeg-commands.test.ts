import { describe, expect, it } from 'vitest';
import { concatCommand, detectedFormat, formatDetectionArgs, hlsEncodeCommand, liveThumbnailCommand, posterCommand, segmentPosterCommand, probeArgs, progressPercent, segmentsPercent } from '../../lib/ffmpeg-commands.ts';
import type { LadderPlan } from '../../workflows/plans/ladder.ts';

const rung = (name: string, width: number, height: number, kbps: number) => ({
  name, width, height, fps: 30, videoKbps: kbps, maxrateKbps: Math.round(kbps * 1.07), bufsizeKbps: kbps * 2,
});
const audio = { codec: 'aac' as const, kbps: 128, channels: 2 as const, sampleRate: 48000 as const };
const ACCEPTED = 'mov,matroska,avi,flv,live_flv,mpegts,mpeg,ogg,asf,wav,mp3,flac,aac,ac3,eac3,aiff';
const local = (file: string) => ({ file, format: 'mov' });

describe('hlsEncodeCommand', () => {
  it('decodes once, splits into every rendition, and aligns keyframes to segments', () => {
    const plan: LadderPlan = { kind: 'video+audio', renditions: [rung('720p', 1280, 720, 2800), rung('360p', 640, 360, 800)], audio, segmentSeconds: 4 };
    const { args, variantPlaylists, masterPlaylist } = hlsEncodeCommand({ file: '/in/source', format: 'matroska' }, { hlsDir: '/out' }, plan);
    expect(args).toEqual([
      '-hide_banner', '-nostdin', '-y',
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'matroska', '-i', '/in/source',
      '-filter_complex',
      '[0:v:0]split=2[s0][s1];[s0]fps=30,scale=1280:720:flags=bicubic,format=yuv420p[v0];[s1]fps=30,scale=640:360:flags=bicubic,format=yuv420p[v1]',
      '-map', '[v0]', '-b:v:0', '2800k', '-maxrate:v:0', '2996k', '-bufsize:v:0', '5600k', '-map', '0:a:0',
      '-map', '[v1]', '-b:v:1', '800k', '-maxrate:v:1', '856k', '-bufsize:v:1', '1600k', '-map', '0:a:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      '-g', '120', '-keyint_min', '120', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*4)',
      '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-ar', '48000',
      '-f', 'hls', '-hls_time', '4', '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments',
      '-hls_segment_filename', '/out/%v/segment_%05d.ts', '-master_pl_name', 'master.m3u8',
      '-var_stream_map', 'v:0,a:0,name:720p v:1,a:1,name:360p',
      '-progress', 'pipe:1', '-nostats', '/out/%v/index.m3u8',
    ]);
    expect(variantPlaylists).toEqual(['720p/index.m3u8', '360p/index.m3u8']);
    expect(hlsEncodeCommand({ file: '/in/source', format: 'matroska' }, { hlsDir: '/out' }, plan).progressDir).toBe('720p');
    expect(masterPlaylist).toBe('master.m3u8');
  });

  it('maps no audio for video-only and no video for audio-only sources', () => {
    const videoOnly = hlsEncodeCommand(local('in'), { hlsDir: 'out' }, { kind: 'video-only', renditions: [rung('360p', 640, 360, 800)], audio: null, segmentSeconds: 4 });
    expect(videoOnly.args).not.toContain('0:a:0');
    expect(videoOnly.args).toContain('v:0,name:360p');
    const audioOnly = hlsEncodeCommand(local('in'), { hlsDir: 'out' }, { kind: 'audio-only', renditions: [], audio, segmentSeconds: 4 });
    expect(audioOnly.args).not.toContain('-filter_complex');
    expect(audioOnly.args).toContain('a:0,name:audio');
    expect(audioOnly.variantPlaylists).toEqual(['audio/index.m3u8']);
    expect(audioOnly.progressDir).toBe('audio');
  });
});

describe('input and thumbnail commands', () => {
  it('reads only the local file, with the detected demuxer named and MP4 data references off', () => {
    const plan: LadderPlan = { kind: 'video-only', renditions: [rung('360p', 640, 360, 800)], audio: null, segmentSeconds: 4 };
    expect(hlsEncodeCommand({ file: '/scratch/source', format: 'mov' }, { hlsDir: 'out' }, plan).args.slice(3, 13)).toEqual([
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'mov', '-enable_drefs', '0', '-i', '/scratch/source',
    ]);
    expect(probeArgs({ file: '/scratch/source', format: 'flv' })).toEqual([
      '-hide_banner', '-loglevel', 'error',
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'flv', '-i', '/scratch/source',
      '-show_format', '-show_streams', '-of', 'json',
    ]);
  });

  it('detects a format without letting any demuxer open the file', () => {
    expect(formatDetectionArgs('/scratch/source')).toEqual([
      '-hide_banner', '-loglevel', 'debug', '-protocol_whitelist', 'file', '-format_whitelist', 'streamhub-detect-only', '-i', '/scratch/source',
    ]);
    const log = (line: string) => `[NULL @ 0x55] Opening '/scratch/source' for reading\n${line}\n[hls @ 0x55] Format not on whitelist 'streamhub-detect-only'\n`;
    expect(detectedFormat(log('[hls @ 0x55] Format hls probed with size=2048 and score=100'))).toBe('hls');
    expect(detectedFormat(log('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] Format mov,mp4,m4a,3gp,3g2,mj2 probed with size=2048 and score=100'))).toBe('mov,mp4,m4a,3gp,3g2,mj2');
    expect(detectedFormat(log('[mp3 @ 0x55] Format mp3 detected only with low score of 24, misdetection possible!'))).toBe('mp3');
    expect(detectedFormat("/scratch/source: Invalid data found when processing input\n")).toBeNull();
  });

  it('takes the poster and the storyboard from the same decode as the renditions', () => {
    const plan: LadderPlan = { kind: 'video-only', renditions: [rung('360p', 640, 360, 800)], audio: null, segmentSeconds: 4 };
    const thumbnails = {
      poster: { atSeconds: 2.5, width: 640, height: 360 },
      posterFile: '/t/poster.jpg',
      storyboard: { intervalSeconds: 2, count: 15, columns: 10, rows: 2, tileWidth: 160, tileHeight: 90 },
      storyboardFile: '/t/sb.jpg',
    };
    const { args } = hlsEncodeCommand(local('in.mp4'), { hlsDir: 'out', thumbnails }, plan);
    expect(args[args.indexOf('-filter_complex') + 1]).toBe(
      '[0:v:0]split=3[s0][sp][sb];[s0]fps=30,scale=640:360:flags=bicubic,format=yuv420p[v0];' +
        '[sp]select=gte(t\\,2.500),scale=640:360[poster];[sb]fps=1/2,scale=160:90,tile=10x2[storyboard]',
    );
    // The image outputs come after the HLS output, so the encoder options above do not apply to them.
    expect(args.slice(args.indexOf('out/%v/index.m3u8') + 1)).toEqual([
      '-map', '[poster]', '-frames:v', '1', '-q:v', '3', '/t/poster.jpg',
      '-map', '[storyboard]', '-frames:v', '1', '-q:v', '5', '/t/sb.jpg',
    ]);
    const audioOnly = hlsEncodeCommand(local('in.m4a'), { hlsDir: 'out', thumbnails }, { kind: 'audio-only', renditions: [], audio, segmentSeconds: 4 });
    expect(audioOnly.args).not.toContain('/t/poster.jpg');
  });
});

describe('progressPercent', () => {
  const videoPlan: LadderPlan = { kind: 'video-only', renditions: [rung('360p', 640, 360, 800)], audio: null, segmentSeconds: 4 };
  const audioPlan: LadderPlan = { kind: 'audio-only', renditions: [], audio, segmentSeconds: 4 };

  it('counts frames of the first rendition for video, ignoring out_time (thumbnails skew it)', () => {
    expect(progressPercent('frame=150', videoPlan, 10)).toBe(50);
    expect(progressPercent('frame=301', videoPlan, 10)).toBe(100);
    expect(progressPercent('out_time_us=20000000', videoPlan, 10)).toBeUndefined();
  });

  it('reads out_time_us for audio-only encodes, clamped, ignoring other lines', () => {
    expect(progressPercent('out_time_us=5000000', audioPlan, 10)).toBe(50);
    expect(progressPercent('out_time_us=12000000', audioPlan, 10)).toBe(100);
    expect(progressPercent('frame=12', audioPlan, 10)).toBeUndefined();
    expect(progressPercent('out_time_us=5000000', audioPlan, 0)).toBeUndefined();
  });
});

describe('concatCommand', () => {
  it('lists every input quoted, escaping quotes in paths, and copies the streams', () => {
    const { args, list } = concatCommand(['/rec/a.flv', "/rec/it's.flv"], '/tmp/list.txt', '/tmp/out.flv');
    expect(list).toBe("file '/rec/a.flv'\nfile '/rec/it'\\''s.flv'");
    expect(args).toEqual(['-hide_banner', '-nostdin', '-y', '-f', 'concat', '-safe', '0', '-i', '/tmp/list.txt', '-c', 'copy', '-progress', 'pipe:1', '-nostats', '/tmp/out.flv']);
  });
});

describe('segmentsPercent', () => {
  const plan: LadderPlan = { kind: 'video-only', renditions: [rung('360p', 640, 360, 800)], audio: null, segmentSeconds: 4 };

  it('counts the segments written, not the one still being written, against the duration', () => {
    expect(segmentsPercent([], plan, 20)).toBe(0);
    expect(segmentsPercent(['segment_00000.ts'], plan, 20)).toBe(0);
    expect(segmentsPercent(['segment_00000.ts', 'segment_00001.ts'], plan, 20)).toBe(20);
    expect(segmentsPercent(['segment_00000.ts', 'segment_00001.ts', 'segment_00002.ts'], plan, 30)).toBe(26);
  });

  it('ignores playlists and other files, clamps at 100, and knows nothing without a duration', () => {
    expect(segmentsPercent(['index.m3u8', 'segment_00000.ts', 'segment_00001.ts', 'segment_00001.ts.tmp'], plan, 8)).toBe(50);
    expect(segmentsPercent(['segment_00000.ts', 'segment_00001.ts', 'segment_00002.ts', 'segment_00003.ts'], plan, 10)).toBe(100);
    expect(segmentsPercent(['segment_00000.ts', 'segment_00001.ts'], plan, 0)).toBeUndefined();
  });
});

describe('segmentPosterCommand', () => {
  it('seeks on the output side of one local MPEG-TS segment (input seeking finds nothing in a segment whose timestamps continue)', () => {
    expect(segmentPosterCommand({ file: '/in/segment.ts', format: 'mpegts' }, { atSeconds: 1.5, width: 1280, height: 720 }, '/out/poster.jpg')).toEqual([
      '-hide_banner', '-nostdin', '-y',
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'mpegts', '-i', '/in/segment.ts',
      '-ss', '1.500',
      '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=1280:720', '-q:v', '3', '/out/poster.jpg',
    ]);
  });
});

describe('liveThumbnailCommand', () => {
  it('reads one local MPEG-TS segment and writes its first frame, at most 360 px high (README "Live thumbnails")', () => {
    expect(liveThumbnailCommand({ file: '/hls/abc-12.ts', format: 'mpegts' }, '/out/abc.jpg')).toEqual([
      '-hide_banner', '-nostdin', '-y',
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'mpegts', '-i', '/hls/abc-12.ts',
      '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=-2:min(360\\,ih)', '-q:v', '4', '/out/abc.jpg',
    ]);
  });
});

describe('posterCommand', () => {
  it('seeks before the input, keeps FFmpeg inside the local file, and writes one scaled frame', () => {
    expect(posterCommand({ file: '/in/source', format: 'mov' }, { atSeconds: 12.3456, width: 1280, height: 720 }, '/out/poster.jpg')).toEqual([
      '-hide_banner', '-nostdin', '-y',
      '-ss', '12.346',
      '-protocol_whitelist', 'file', '-format_whitelist', ACCEPTED, '-f', 'mov', '-enable_drefs', '0', '-i', '/in/source',
      '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=1280:720', '-q:v', '3', '/out/poster.jpg',
    ]);
  });
});
