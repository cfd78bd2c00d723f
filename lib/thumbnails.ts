// Thumbnails of a video: a poster image, and a storyboard — one sprite image of evenly spaced frames plus a WebVTT index that tells
// a player which tile to show while a viewer scrubs. Pure planning, tested exactly.

export interface StoryboardPlan {
  intervalSeconds: number;
  count: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

const TILE_LONG_SIDE = 160;
const MAX_TILES = 100;
const MAX_COLUMNS = 10;

const evenAtLeast2 = (n: number) => Math.max(2, Math.round(n / 2) * 2);

const POSTER_LONG_SIDE = 1280;

/** `display` scaled to `longSide` px on its long side (only ever down unless `upscale`), in even sizes. */
function fitLongSide(display: { width: number; height: number }, longSide: number, { upscale }: { upscale: boolean }) {
  const scale = longSide / Math.max(display.width, display.height);
  const applied = upscale ? scale : Math.min(1, scale);
  return { width: evenAtLeast2(display.width * applied), height: evenAtLeast2(display.height * applied) };
}

export interface PosterPlan {
  atSeconds: number;
  width: number;
  height: number;
}

/**
 * A frame a quarter in (titles and fade-ins are over by then; capped for long videos so the
 * seek stays short), at most 1280 px on the long side, never upscaled.
 */
export function planPoster(durationSeconds: number, display: { width: number; height: number }): PosterPlan {
  return planPosterAt(Math.min(durationSeconds * 0.25, 60), display);
}

/** The frame at `atSeconds` (the owner's choice, PATCH /videos/{id}), sized like planPoster's. */
export function planPosterAt(atSeconds: number, display: { width: number; height: number }): PosterPlan {
  return { atSeconds, ...fitLongSide(display, POSTER_LONG_SIDE, { upscale: false }) };
}

/** At most 100 tiles, at least one second apart, sized 160 px on the long side. */
export function planStoryboard(durationSeconds: number, display: { width: number; height: number }): StoryboardPlan {
  const intervalSeconds = Math.max(1, Math.ceil(durationSeconds / MAX_TILES));
  const count = Math.max(1, Math.ceil(durationSeconds / intervalSeconds));
  const columns = Math.min(MAX_COLUMNS, count);
  const tile = fitLongSide(display, TILE_LONG_SIDE, { upscale: true });
  return { intervalSeconds, count, columns, rows: Math.ceil(count / columns), tileWidth: tile.width, tileHeight: tile.height };
}

function timestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** WebVTT thumbnail track: one cue per tile, pointing into the sprite with a media fragment. */
export function storyboardVtt(plan: StoryboardPlan, durationSeconds: number, imageUrl: string): string {
  const cues = Array.from({ length: plan.count }, (_, i) => {
    const start = i * plan.intervalSeconds;
    const end = Math.min((i + 1) * plan.intervalSeconds, Math.max(durationSeconds, start + 0.001));
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    return `${timestamp(start)} --> ${timestamp(end)}\n${imageUrl}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`;
  });
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}
