import { describe, expect, it } from 'vitest';
import { planPoster, planPosterAt, planStoryboard, storyboardVtt } from '../../lib/thumbnails.ts';

describe('planPoster', () => {
  it('takes a frame a quarter in, capped at one minute', () => {
    expect(planPoster(8, { width: 1920, height: 1080 }).atSeconds).toBe(2);
    expect(planPoster(3600, { width: 1920, height: 1080 }).atSeconds).toBe(60);
  });

  it('fits 1280 px on the long side with even sizes and never upscales', () => {
    expect(planPoster(10, { width: 1920, height: 1080 })).toMatchObject({ width: 1280, height: 720 });
    expect(planPoster(10, { width: 1080, height: 1920 })).toMatchObject({ width: 720, height: 1280 });
    expect(planPoster(10, { width: 641, height: 361 })).toMatchObject({ width: 642, height: 362 });
    expect(planPoster(10, { width: 320, height: 240 })).toMatchObject({ width: 320, height: 240 });
  });
});

describe('planStoryboard', () => {
  it('spaces tiles a second apart for short videos and caps them at 100 for long ones', () => {
    expect(planStoryboard(3, { width: 1280, height: 720 })).toEqual({ intervalSeconds: 1, count: 3, columns: 3, rows: 1, tileWidth: 160, tileHeight: 90 });
    const long = planStoryboard(3600, { width: 1920, height: 1080 });
    expect(long).toMatchObject({ intervalSeconds: 36, count: 100, columns: 10, rows: 10 });
    expect(planStoryboard(250.5, { width: 1920, height: 1080 })).toMatchObject({ intervalSeconds: 3, count: 84, columns: 10, rows: 9 });
  });

  it('sizes portrait tiles by their long side, with even dimensions', () => {
    expect(planStoryboard(10, { width: 480, height: 854 })).toMatchObject({ tileWidth: 90, tileHeight: 160 });
    expect(planStoryboard(10, { width: 641, height: 361 })).toMatchObject({ tileWidth: 160, tileHeight: 90 });
  });

  it('still has one tile for a sub-second clip', () => {
    expect(planStoryboard(0.4, { width: 640, height: 360 })).toMatchObject({ count: 1, columns: 1, rows: 1 });
  });
});

describe('storyboardVtt', () => {
  it('gives one cue per tile pointing into the sprite, ending at the video end', () => {
    const plan = planStoryboard(12.5, { width: 1280, height: 720 });
    const vtt = storyboardVtt({ ...plan, columns: 10, rows: 2 }, 12.5, 'storyboard.jpg');
    const cues = vtt.trim().split('\n\n');
    expect(cues[0]).toBe('WEBVTT');
    expect(cues).toHaveLength(1 + 13);
    expect(cues[1]).toBe('00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90');
    expect(cues[11]).toBe('00:00:10.000 --> 00:00:11.000\nstoryboard.jpg#xywh=0,90,160,90');
    expect(cues[13]).toBe('00:00:12.000 --> 00:00:12.500\nstoryboard.jpg#xywh=320,90,160,90');
  });

  it('formats hours', () => {
    const vtt = storyboardVtt({ intervalSeconds: 36, count: 100, columns: 10, rows: 10, tileWidth: 160, tileHeight: 90 }, 3600, 'sb.jpg');
    expect(vtt).toContain('00:59:24.000 --> 01:00:00.000\nsb.jpg#xywh=1440,810,160,90');
  });
});

describe('planPosterAt', () => {
  it('takes the chosen time as it is, sized like the transcode poster', () => {
    expect(planPosterAt(3.5, { width: 1920, height: 1080 })).toEqual({ atSeconds: 3.5, width: 1280, height: 720 });
    expect(planPosterAt(0, { width: 320, height: 240 })).toEqual({ atSeconds: 0, width: 320, height: 240 });
  });
});
