import { useEffect, type RefObject } from 'react';
import { sendHeartbeat } from './api.ts';

const EVERY_MS = 15_000;

/**
 * Sends the player's heartbeats for `videoId`: when playback starts, every 15 s while it
 * plays, on pause (the end included), and once more when the page is left (another page of
 * the app, or the tab closed) while playing. Call it from a component mounted with the player.
 */
export function useViewHeartbeats(videoId: string, media: RefObject<HTMLVideoElement | null>) {
  useEffect(() => {
    const video = media.current;
    if (!video) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    const beat = (leaving = false) => sendHeartbeat(videoId, video.currentTime, leaving);
    const stop = () => {
      clearInterval(timer);
      timer = undefined;
    };
    const onPlay = () => {
      beat();
      stop();
      timer = setInterval(() => beat(), EVERY_MS);
    };
    const onPause = () => {
      stop();
      beat();
    };
    const onLeave = () => !video.paused && beat(true);
    video.addEventListener('play', onPlay);
    video.addEventListener('pause', onPause);
    window.addEventListener('pagehide', onLeave);
    return () => {
      stop();
      video.removeEventListener('play', onPlay);
      video.removeEventListener('pause', onPause);
      window.removeEventListener('pagehide', onLeave);
      onLeave();
    };
  }, [videoId, media]);
}

/** Mounted beside the player (after it, so its <video> exists): sends the heartbeats. */
export function ViewHeartbeats({ videoId, media }: { videoId: string; media: RefObject<HTMLVideoElement | null> }) {
  useViewHeartbeats(videoId, media);
  return null;
}
