// Storyboard tracks: WebVTT whose cues name a sprite region (`sprite.jpg#xywh=x,y,w,h`).

export interface StoryboardCue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const time = (t: string) => t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);

/** Parses cues; image URLs are resolved against the track's own URL. */
export function parseStoryboard(vtt: string, base: string): StoryboardCue[] {
  const cues: StoryboardCue[] = [];
  const blocks = vtt.replace(/\r/g, '').split(/\n\n+/);
  for (const block of blocks) {
    const lines = block.split('\n');
    const timing = lines.findIndex((l) => l.includes('-->'));
    const target = timing >= 0 ? lines[timing + 1]?.trim() : undefined;
    if (timing < 0 || !target) continue;
    const [from, to] = lines[timing]!.split('-->').map((s) => s.trim().split(/\s+/)[0]!);
    const match = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(target);
    if (!match || from === undefined || to === undefined) continue;
    cues.push({ start: time(from), end: time(to), url: new URL(match[1]!, base).href, x: Number(match[2]), y: Number(match[3]), w: Number(match[4]), h: Number(match[5]) });
  }
  return cues;
}

export const cueAt = (cues: StoryboardCue[], t: number) => cues.find((c) => t >= c.start && t < c.end) ?? cues.at(-1);
