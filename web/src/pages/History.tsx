// /history — what the signed-in viewer watched, most recent first, with where they left off;
// remove one video or clear it all (resume positions go with them).
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useHistory, useRemoveHistory, type HistoryItem } from '../features/views/api.ts';
import { formatDuration, VideoCardLink } from '../layout/VideoCard.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function Entry({ item, remove, busy }: { item: HistoryItem; remove: () => void; busy: boolean }) {
  const { video } = item;
  return (
    <li className="card">
      <VideoCardLink video={video} />
      <span className="muted" data-testid="history-position">
        {item.resumeAtSeconds === null ? 'Watched' : `Stopped at ${formatDuration(item.resumeAtSeconds)}`}
        {video.durationSeconds !== null && ` of ${formatDuration(video.durationSeconds)}`}
      </span>
      <button type="button" className="small secondary" disabled={busy} onClick={remove} aria-label={`Remove ${video.title} from history`}>
        Remove
      </button>
    </li>
  );
}

function List() {
  const history = useHistory();
  const remove = useRemoveHistory();
  if (history.isPending) return <Loading />;
  if (history.isError) return <ErrorMessage error={history.error} />;
  const items = history.data.pages.flatMap((p) => p.items);
  return (
    <>
      {items.length === 0 ? (
        <p className="muted">Nothing watched yet.</p>
      ) : (
        <>
          <button type="button" className="secondary" disabled={remove.isPending} onClick={() => window.confirm('Clear your whole watch history?') && remove.mutate(undefined)}>
            Clear all history
          </button>
          <ul className="grid" aria-label="Watch history">
            {items.map((item) => (
              <Entry key={item.videoId} item={item} busy={remove.isPending} remove={() => remove.mutate(item.videoId)} />
            ))}
          </ul>
        </>
      )}
      {history.hasNextPage && (
        <button type="button" className="secondary" disabled={history.isFetchingNextPage} onClick={() => void history.fetchNextPage()}>
          Load more
        </button>
      )}
      {remove.isError && <ErrorMessage error={remove.error} />}
    </>
  );
}

export default function History() {
  return (
    <RequireSignIn>
      <h1>Watch history</h1>
      <List />
    </RequireSignIn>
  );
}
