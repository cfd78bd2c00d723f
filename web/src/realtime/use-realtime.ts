import { useEffect, useRef } from 'react';
import type { ServerFrame } from './frames.ts';
import { realtime } from './socket.ts';

/** Calls `onFrame` for every frame while the component is mounted (the latest `onFrame`, no resubscribe). */
export function useRealtimeFrames(onFrame: (frame: ServerFrame) => void): void {
  const latest = useRef(onFrame);
  latest.current = onFrame;
  useEffect(() => realtime.subscribe((frame) => latest.current(frame)), []);
}
