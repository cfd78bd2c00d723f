// Thumbnails over the seek bar: the storyboard track is fetched once, and hovering the lower
// part of the player (where the native controls' timeline is) shows the frame at that point.
import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { cueAt, parseStoryboard, type StoryboardCue } from './vtt.ts';

export interface StoryboardState {
  cue: StoryboardCue | undefined;
  left: number;
  onHover(e: PointerEvent<HTMLDivElement>): void;
  onLeave(): void;
}

export function useStoryboard(url: string | null | undefined): StoryboardState {
  const cues = useRef<StoryboardCue[]>([]);
  const [cue, setCue] = useState<StoryboardCue>();
  const [left, setLeft] = useState(0);
  useEffect(() => {
    cues.current = [];
    if (!url) return;
    const abort = new AbortController();
    fetch(url, { signal: abort.signal })
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => (cues.current = parseStoryboard(text, new URL(url, location.href).href)))
      .catch(() => {});
    return () => abort.abort();
  }, [url]);
  return {
    cue,
    left,
    onHover(e) {
      const rect = e.currentTarget.getBoundingClientRect();
      const video = e.currentTarget.querySelector('video');
      const inTimeline = e.clientY > rect.bottom - 48;
      if (!video || !cues.current.length || !inTimeline || !Number.isFinite(video.duration)) return setCue(undefined);
      const fraction = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
      setCue(cueAt(cues.current, fraction * video.duration));
      setLeft(e.clientX - rect.left);
    },
    onLeave: () => setCue(undefined),
  };
}

export function Storyboard({ state }: { state: StoryboardState }) {
  const { cue, left } = state;
  if (!cue) return null;
  return (
    <div
      className="storyboard"
      aria-hidden="true"
      style={{ left: Math.max(0, left - cue.w / 2), width: cue.w, height: cue.h, backgroundImage: `url("${cue.url}")`, backgroundPosition: `-${cue.x}px -${cue.y}px` }}
    />
  );
}
