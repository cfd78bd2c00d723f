import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hlsEncodeCommand, progressPercent } from '../../lib/ffmpeg-commands.ts';
import { detectContainer, probeMedia, runFfmpeg } from '../../lib/ffmpeg.ts';
import { planLadder, UnplayableMediaError } from '../../workflows/plans/ladder.ts';
import { h264, mediaDir, probeStreams, segmentDurations, testPattern, tone } from '../support/media.ts';

// The encoding core of the VOD pipeline against the real FFmpeg, on media generated here.
const media = mediaDir('media-encode');
const { dir } = media;
const generate = media.generate;
afterAll(media.remove);

async function encode(source: string) {
  const info = await probeMedia(source);
  const plan = planLadder(info);
  const out = mkdtempSync(path.join(dir, 'out-'));
  const command = hlsEncodeCommand({ file: source, format: await detectContainer(source) }, { hlsDir: out }, plan);
  const percents: number[] = [];
  await runFfmpeg(command.args, {
    onProgressLine: (line) => {
      const p = progressPercent(line, plan, info.durationSeconds);
      if (p !== undefined) percents.push(p);
    },
  });
  return { info, plan, out, command, percents, master: readFileSync(path.join(out, command.masterPlaylist), 'utf8') };
}

// Real encodes on two cores, next to other test files: generous, and never a timing assertion.
describe('HLS encode (one FFmpeg process for the whole ladder)', { timeout: 180_000 }, () => {
  it('encodes a landscape source into aligned renditions with a complete master playlist', async () => {
    const source = await generate('landscape.mp4', [...testPattern('1280x720', 30, 9), ...tone(9), ...h264, '-c:a', 'aac', '-shortest']);
    const { plan, out, command, master, percents } = await encode(source);
    expect(plan.renditions.map((r) => r.name)).toEqual(['720p', '480p', '360p']);

    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    expect(variants).toHaveLength(3);
    for (const [i, r] of plan.renditions.entries()) {
      expect(variants[i]).toContain(`RESOLUTION=${r.width}x${r.height}`);
      expect(variants[i]).toMatch(/BANDWIDTH=\d+/);
      expect(variants[i]).toMatch(/CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/);
    }

    const durations = command.variantPlaylists.map((p) => segmentDurations(readFileSync(path.join(out, p), 'utf8')));
    expect(durations[0]!.slice(0, 2).map(Math.round)).toEqual([4, 4]);
    for (const d of durations) expect(d.map((x) => x.toFixed(2))).toEqual(durations[0]!.map((x) => x.toFixed(2)));

    for (const [i, r] of plan.renditions.entries()) {
      const streams = await probeStreams(path.join(out, r.name, 'segment_00000.ts'));
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: r.width, height: r.height });
      expect(streams.some((s) => s.codec_type === 'audio'), `rendition ${i}`).toBe(true);
    }
    expect(percents.at(-1)).toBe(100);
  });

  it('keeps portrait video portrait and odd sizes even', async () => {
    const portrait = await encode(await generate('portrait.mp4', [...testPattern('480x854', 30, 2), ...h264]));
    expect(portrait.plan.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['480x854', '360x640']);
    const odd = await encode(await generate('odd.mkv', [...testPattern('641x361', 25, 2), '-c:v', 'ffv1']));
    expect(odd.plan.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['640x360']);
    expect(odd.master).toContain('RESOLUTION=640x360');
    // Phones store portrait video as landscape frames plus a rotation (a display matrix).
    const landscape = await generate('stored-landscape.mp4', [...testPattern('640x360', 30, 2), ...h264]);
    const rotated = await encode(await generate('rotated.mp4', ['-i', landscape, '-c', 'copy', '-metadata:s:v:0', 'rotate=90']));
    expect(rotated.info.video).toMatchObject({ width: 640, height: 360 });
    expect(rotated.plan.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['360x640']);
    expect(rotated.master).toContain('RESOLUTION=360x640');
  });

  it('encodes video-only at 60 fps and audio-only sources', async () => {
    const silent = await encode(await generate('sixty.mp4', [...testPattern('640x360', 60, 2), ...h264]));
    expect(silent.plan).toMatchObject({ kind: 'video-only' });
    expect(silent.plan.renditions[0]).toMatchObject({ name: '360p60', fps: 60 });
    expect(silent.master).not.toContain('mp4a');

    const audio = await encode(await generate('audio.m4a', [...tone(3), '-c:a', 'aac']));
    expect(audio.plan.kind).toBe('audio-only');
    expect(audio.master).toContain('mp4a.40.2');
    expect(readFileSync(path.join(audio.out, 'audio', 'index.m3u8'), 'utf8')).toContain('#EXT-X-ENDLIST');
  });

  it('refuses broken inputs fast with a reason a person understands', async () => {
    const random = path.join(dir, 'random.bin');
    writeFileSync(random, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251)));
    const empty = path.join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    // Cameras and most encoders write the index (moov) last, so an interrupted upload loses it.
    const whole = readFileSync(await generate('whole.mp4', [...testPattern('320x240', 25, 2), ...h264]));
    const truncated = path.join(dir, 'truncated.mp4');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));

    for (const file of [random, empty, truncated]) {
      const error = await probeMedia(file).catch((err: unknown) => err);
      expect(error, file).toBeInstanceOf(UnplayableMediaError);
      expect((error as Error).message).toMatch(/^(Not a readable audio or video file|The file has)/);
    }
  });
});
