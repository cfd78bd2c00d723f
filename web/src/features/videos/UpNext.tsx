import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { ErrorMessage, Loading } from '../../layout/Status.tsx';
import { VideoCardLink } from '../../layout/VideoCard.tsx';

const reasonText = { co_watched: 'Viewers of this also watched', same_category: 'More like this' } as const;

/** What to watch next: co-watched videos, then the category's (GET /videos/:id/up-next). */
export function UpNext({ videoId }: { videoId: string }) {
  const next = useQuery({
    queryKey: ['videos', videoId, 'up-next'],
    queryFn: () => unwrap(api.GET('/api/v1/videos/{id}/up-next', { params: { path: { id: videoId }, query: { limit: 10 } } })),
  });
  return (
    <section aria-labelledby="up-next">
      <h2 id="up-next">Up next</h2>
      {next.isPending ? (
        <Loading />
      ) : next.isError ? (
        <ErrorMessage error={next.error} />
      ) : next.data.length === 0 ? (
        <p className="muted">Nothing to suggest yet.</p>
      ) : (
        <ul className="grid">
          {next.data.map((v) => (
            <li key={v.id} className="card">
              <VideoCardLink video={v} />
              <span className="muted">{reasonText[v.reason]}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
