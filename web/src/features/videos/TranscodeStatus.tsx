// A video that is not playable yet: upload or transcode progress (pushed by the realtime
// socket to the owner as `progress` frames), or the failure's reason with retry and delete.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useSession } from '../../api/session.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import { useRealtimeFrames } from '../../realtime/use-realtime.ts';
import { urls } from '../../urls.ts';
import { useDeleteVideo, useRetryVideo, videoQuery, type Video } from './api.ts';

export function TranscodeStatus({ video }: { video: Video }) {
  const client = useQueryClient();
  const [pushed, setPushed] = useState<number>();
  const mine = useSession()?.user.id === video.ownerId;
  const retry = useRetryVideo();
  const remove = useDeleteVideo();
  const navigate = useNavigate();
  useRealtimeFrames((frame) => {
    if (frame.type !== 'progress' || frame.videoId !== video.id) return;
    setPushed(frame.percent);
    // The last percent means the video is about to be ready: ask for it now.
    if (frame.percent >= 100) void client.invalidateQueries({ queryKey: videoQuery(video.id).queryKey });
  });
  const percent = Math.max(video.progress, pushed ?? 0);

  if (video.status === 'failed') {
    return (
      <section className="status-panel" aria-labelledby="failed-heading">
        <h2 id="failed-heading">This video could not be processed</h2>
        <p role="alert">{video.failureReason ?? 'The transcode failed.'}</p>
        {mine && (
          <div className="row">
            <button type="button" onClick={() => retry.mutate(video.id)} disabled={retry.isPending}>
              Retry
            </button>
            <button type="button" className="danger" onClick={() => remove.mutate(video.id, { onSuccess: () => void navigate(urls.upload()) })} disabled={remove.isPending}>
              Delete
            </button>
          </div>
        )}
        {retry.isError && <ErrorMessage error={retry.error} />}
        {remove.isError && <ErrorMessage error={remove.error} />}
      </section>
    );
  }
  const label = video.status === 'uploading' ? 'Waiting for the upload' : 'Transcoding';
  return (
    <section className="status-panel" aria-labelledby="transcode-heading">
      <h2 id="transcode-heading">{label}</h2>
      <label className="progress">
        <span>
          {label}: <output data-testid="transcode-percent">{percent}%</output>
        </span>
        <progress max={100} value={percent} />
      </label>
      <p className="muted">The video plays here as soon as it is ready.</p>
    </section>
  );
}
