// A live stream's page: the player while it is on air, its status otherwise, and the
// recording once it is a video. Chat, viewer count and live status over the socket are the
// next step (issue #16); this page is where they go.
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { streamQuery } from '../features/streams/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { HlsPlayer } from '../player/HlsPlayer.tsx';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';

const STATUS_TEXT: Record<string, string> = {
  idle: 'This stream has not started yet.',
  scheduled: 'This stream is scheduled.',
  reconnecting: 'The streamer’s connection dropped; waiting for them to come back…',
  ended: 'This stream has ended.',
  cancelled: 'This stream was cancelled.',
};

export default function WatchStream() {
  const id = useParams().id!;
  const stream = useQuery({ ...streamQuery(id), refetchInterval: 10_000 });
  if (stream.isPending) return <Loading />;
  if (stream.isError) return stream.error instanceof ApiError && stream.error.status === 404 ? <NotFound /> : <ErrorMessage error={stream.error} />;
  const s = stream.data;
  return (
    <article className="watch">
      {s.status === 'live' && s.playbackUrl ? (
        <HlsPlayer src={s.playbackUrl} title={s.title} />
      ) : (
        <section className="status-panel">
          <p role="status">{STATUS_TEXT[s.status] ?? s.status}</p>
          {s.vodVideoId && (
            <p>
              <Link to={urls.video(s.vodVideoId)}>Watch the recording</Link>
            </p>
          )}
        </section>
      )}
      <h1>
        {s.status === 'live' && <span className="badge live">Live</span>} {s.title}
      </h1>
      <p className="muted">{s.viewers} watching</p>
      {s.description && <p className="description">{s.description}</p>}
    </article>
  );
}
