import { describe, expect, it } from 'vitest';
import { cueAt, parseStoryboard } from '../../../web/src/player/vtt.ts';
import { reconnectDelayMs } from '../../../web/src/realtime/backoff.ts';
import { planStoryboard, storyboardVtt } from '../../../lib/thumbnails.ts';

// Pure pieces of the web app: the storyboard track as the transcode writes it, and the
// socket's reconnect schedule.

describe('storyboard track', () => {
  it('reads the cues the transcode writes, with sprite URLs resolved against the track', () => {
    const vtt = 'WEBVTT\n\n00:00:00.000 --> 00:00:05.000\nstoryboard.jpg#xywh=0,0,160,90\n\n00:00:05.000 --> 00:00:10.000\nstoryboard.jpg#xywh=160,0,160,90\n';
    const cues = parseStoryboard(vtt, 'http://h/api/v1/videos/v/storyboard.vtt?token=t');
    expect(cues).toEqual([
      { start: 0, end: 5, url: 'http://h/api/v1/videos/v/storyboard.jpg', x: 0, y: 0, w: 160, h: 90 },
      { start: 5, end: 10, url: 'http://h/api/v1/videos/v/storyboard.jpg', x: 160, y: 0, w: 160, h: 90 },
    ]);
    expect(cueAt(cues, 7)?.x).toBe(160);
    expect(cueAt(cues, 99)?.x).toBe(160); // past the end: the last frame
  });

  it('reads every tile of a track lib/thumbnails.ts writes', () => {
    const plan = planStoryboard(25, { width: 1280, height: 720 });
    const cues = parseStoryboard(storyboardVtt(plan, 25, 'storyboard.jpg'), 'http://h/v/storyboard.vtt');
    expect(cues).toHaveLength(plan.count);
    expect(cues.at(-1)).toMatchObject({ end: 25, w: plan.tileWidth, h: plan.tileHeight, url: 'http://h/v/storyboard.jpg' });
    expect(cueAt(cues, 12.5)).toBe(cues[Math.floor(12.5 / plan.intervalSeconds)]);
  });
});

describe('reconnect backoff', () => {
  it('grows from about half a second to at most 30 s, jittered within the upper half', () => {
    expect(reconnectDelayMs(0, () => 0)).toBe(250);
    expect(reconnectDelayMs(0, () => 1)).toBe(500);
    expect(reconnectDelayMs(3, () => 1)).toBe(4000);
    expect(reconnectDelayMs(50, () => 1)).toBe(30_000);
    expect(reconnectDelayMs(50, () => 0)).toBe(15_000);
  });
});
