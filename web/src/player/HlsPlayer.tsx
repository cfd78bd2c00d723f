// The player: hls.js (loaded on demand, its own chunk) or the browser's own HLS (Safari).
// Created in an effect and destroyed in its cleanup (hls.js#4556). Errors follow PeerTube's
// wrapper: a media error is recovered once, network errors are retried a bounded number of
// times, then the player gives up visibly.
import { useEffect, useRef, useState, type RefObject } from 'react';
import type Hls from 'hls.js/light';
import { Storyboard, useStoryboard } from './storyboard.tsx';

export interface Level {
  index: number;
  height: number;
  bitrate: number;
}

const MAX_NETWORK_RETRIES = 3;

export interface HlsPlayerProps {
  src: string;
  poster?: string | null;
  storyboardUrl?: string | null;
  title: string;
  /** Where playback starts (seconds); read once, when the source loads. */
  startAt?: number | null;
  /** The <video> element, for callers that follow playback (e.g. view heartbeats). */
  videoRef?: RefObject<HTMLVideoElement | null>;
}

export function HlsPlayer({ src, poster, storyboardUrl, title, startAt, videoRef }: HlsPlayerProps) {
  const own = useRef<HTMLVideoElement>(null);
  const video = videoRef ?? own;
  const start = useRef(startAt ?? undefined);
  const hlsRef = useRef<Hls | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [level, setLevel] = useState(-1);
  const [failure, setFailure] = useState<string>();
  const storyboard = useStoryboard(storyboardUrl);
  // A video read again comes with a freshly signed URL (a new `?token=`) for the same playlist.
  // Loading it afresh would start playback over, so the player follows the playlist, not the
  // token: the one it loaded stays valid for PLAYBACK_URL_TTL_SECONDS, and segments are signed apart.
  const playlist = src.split('?')[0]!;
  const latestSrc = useRef(src);
  latestSrc.current = src;

  useEffect(() => {
    const src = latestSrc.current;
    const element = video.current;
    if (!element) return;
    let disposed = false;
    let hls: Hls | null = null;
    setFailure(undefined);
    // Resume: seeking once the duration is known works for hls.js and native HLS alike.
    const resume = () => {
      if (start.current !== undefined && element.currentTime < start.current) element.currentTime = start.current;
    };
    element.addEventListener('loadedmetadata', resume, { once: true });
    // The light build: no subtitles, alternate audio or DRM, which StreamHub does not serve; 70 KB less.
    void import('hls.js/light').then(({ default: HlsClass }) => {
      if (disposed) return;
      if (!HlsClass.isSupported()) {
        // Safari and iOS play HLS natively.
        if (element.canPlayType('application/vnd.apple.mpegurl')) element.src = src;
        else setFailure('This browser cannot play HLS video.');
        return;
      }
      hls = new HlsClass({ capLevelToPlayerSize: true, startPosition: start.current ?? -1 });
      hlsRef.current = hls;
      let networkRetries = 0;
      let mediaRecovered = false;
      hls.on(HlsClass.Events.MANIFEST_PARSED, (_e, data) => {
        setLevels(data.levels.map((l, index) => ({ index, height: l.height, bitrate: l.bitrate })).sort((a, b) => b.height - a.height));
      });
      hls.on(HlsClass.Events.ERROR, (_e, data) => {
        if (!data.fatal || !hls) return;
        if (data.type === HlsClass.ErrorTypes.NETWORK_ERROR && networkRetries++ < MAX_NETWORK_RETRIES) hls.startLoad();
        else if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && !mediaRecovered) {
          mediaRecovered = true;
          hls.recoverMediaError();
        } else {
          setFailure(`Playback failed (${data.details}).`);
          hls.destroy();
        }
      });
      hls.loadSource(src);
      hls.attachMedia(element);
    });
    return () => {
      disposed = true;
      element.removeEventListener('loadedmetadata', resume);
      hls?.destroy();
      hlsRef.current = null;
    };
  }, [playlist, video]);

  const choose = (index: number) => {
    setLevel(index);
    if (hlsRef.current) hlsRef.current.currentLevel = index; // -1: automatic
  };

  return (
    <div className="player">
      <div className="player-frame" onPointerMove={storyboard.onHover} onPointerLeave={storyboard.onLeave}>
        <video ref={video} controls playsInline poster={poster ?? undefined} aria-label={title} data-testid="player" />
        <Storyboard state={storyboard} />
      </div>
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      {levels.length > 1 && (
        <label className="quality">
          Quality
          <select value={level} onChange={(e) => choose(Number(e.target.value))}>
            <option value={-1}>Auto</option>
            {levels.map((l) => (
              <option key={l.index} value={l.index}>
                {l.height}p
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  );
}
