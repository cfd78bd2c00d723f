// The live player: hls.js (its own chunk) or the browser's own HLS. Unlike the VOD player it
// never gives up while the stream is on air: a live playlist that stops (the encoder dropped)
// or is briefly missing is loaded again every few seconds, and the page remounts the player
// (new `epoch`) when the stream comes back from reconnecting, so playback resumes at the
// live edge of the new session. Starts muted: browsers let only muted video play by itself.
import { useEffect, useRef, useState } from 'react';
import type Hls from 'hls.js/light';

const RETRY_MS = 2000;
/** A second media error within this window is not recovered in place: the player starts afresh. */
const MEDIA_RECOVERY_WINDOW_MS = 10_000;

export function LivePlayer({ src, title, epoch }: { src: string; title: string; epoch: number }) {
  const video = useRef<HTMLVideoElement>(null);
  const [failure, setFailure] = useState<string>();

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let disposed = false;
    let hls: Hls | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setFailure(undefined);
    void import('hls.js/light').then(({ default: HlsClass }) => {
      if (disposed) return;
      if (!HlsClass.isSupported()) {
        if (element.canPlayType('application/vnd.apple.mpegurl')) {
          element.src = src;
          void element.play().catch(() => {});
        } else setFailure('This browser cannot play HLS video.');
        return;
      }
      let lastMediaRecovery = -Infinity;
      const start = () => {
        if (disposed) return;
        const player = new HlsClass({ liveSyncDurationCount: 3, manifestLoadingMaxRetry: 6, levelLoadingMaxRetry: 6 });
        hls = player;
        player.on(HlsClass.Events.MANIFEST_PARSED, () => {
          setFailure(undefined);
          void element.play().catch(() => {});
        });
        player.on(HlsClass.Events.ERROR, (_e, data) => {
          if (!data.fatal || hls !== player) return;
          clearTimeout(retry);
          if (data.type === HlsClass.ErrorTypes.NETWORK_ERROR) {
            // The playlist is written a moment after the stream goes live, and gone while it reconnects.
            retry = setTimeout(() => player.loadSource(src), RETRY_MS);
          } else if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && performance.now() - lastMediaRecovery > MEDIA_RECOVERY_WINDOW_MS) {
            lastMediaRecovery = performance.now();
            player.recoverMediaError();
          } else {
            // Media that cannot be appended twice in a row (an encoder that restarted with other
            // settings) or any other fatal error: a fresh player at the live edge, never giving up
            // while the stream is on air; the person sees why meanwhile.
            setFailure(`Playback interrupted (${data.details}); trying again…`);
            player.destroy();
            hls = null;
            retry = setTimeout(start, RETRY_MS);
          }
        });
        player.loadSource(src);
        player.attachMedia(element);
      };
      start();
    });
    return () => {
      disposed = true;
      clearTimeout(retry);
      hls?.destroy();
    };
  }, [src, epoch]);

  return (
    <div className="player">
      <div className="player-frame">
        <video ref={video} controls playsInline muted autoPlay aria-label={`${title} (live)`} data-testid="live-player" />
      </div>
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
    </div>
  );
}
