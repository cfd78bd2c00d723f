// /playlists/:id — a playlist in play order. Its owner reorders it (Move up / Move down: one
// move before or after the neighbour), removes videos, and edits, shares or deletes it
// (watch later: only its videos). Videos the viewer may not see are counted, not listed.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import {
  playlistRefusal,
  useDeletePlaylist,
  useMoveInPlaylist,
  usePlaylist,
  usePlaylistItems,
  useRemoveFromPlaylist,
  useUpdatePlaylist,
  visibilityLabel,
  type Playlist as PlaylistData,
  type Visibility,
} from '../features/playlists/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VisibilitySelect } from '../features/playlists/VisibilitySelect.tsx';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';

function Problem({ error }: { error: unknown }) {
  const refusal = playlistRefusal(error);
  return refusal ? <p role="alert">{refusal}</p> : <ErrorMessage error={error} />;
}

function EditPlaylist({ playlist }: { playlist: PlaylistData }) {
  const update = useUpdatePlaylist(playlist.id);
  const remove = useDeletePlaylist();
  const navigate = useNavigate();
  const [title, setTitle] = useState(playlist.title);
  const [description, setDescription] = useState(playlist.description);
  const [visibility, setVisibility] = useState<Visibility>(playlist.visibility);
  const [saved, setSaved] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved('');
    update.mutate({ title, description, visibility }, { onSuccess: () => setSaved('Saved.') });
  };
  return (
    <details>
      <summary>Edit playlist</summary>
      <form onSubmit={submit} className="narrow">
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={150} required />
        </label>
        <label>
          Description
          <textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={5000} />
        </label>
        <VisibilitySelect value={visibility} onChange={setVisibility} />
        <div className="row">
          <button type="submit" disabled={update.isPending}>
            Save changes
          </button>
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() => window.confirm(`Delete the playlist “${playlist.title}”?`) && remove.mutate(playlist.id, { onSuccess: () => void navigate(urls.playlists()) })}
          >
            Delete playlist
          </button>
        </div>
        <p role="status">{saved}</p>
        {update.isError && <Problem error={update.error} />}
        {remove.isError && <Problem error={remove.error} />}
      </form>
    </details>
  );
}

function Items({ playlist, owner }: { playlist: PlaylistData; owner: boolean }) {
  const items = usePlaylistItems(playlist.id);
  const move = useMoveInPlaylist(playlist.id);
  const remove = useRemoveFromPlaylist();
  if (items.isPending) return <Loading />;
  if (items.isError) return <ErrorMessage error={items.error} />;
  const list = items.data.pages.flatMap((p) => p.items);
  const unavailable = items.data.pages[0]?.unavailableCount ?? 0;
  const busy = move.isPending || remove.isPending;
  return (
    <>
      {unavailable > 0 && (
        <p className="muted" data-testid="unavailable">
          {unavailable} unavailable {unavailable === 1 ? 'video is' : 'videos are'} hidden
        </p>
      )}
      {list.length === 0 ? (
        <p className="muted">No videos yet. Use “Save” on a video’s page to add one.</p>
      ) : (
        <ol className="playlist-items" aria-label="Videos in play order">
          {list.map((item, i) => (
            <li key={item.videoId}>
              <Link to={urls.video(item.videoId)}>{item.title}</Link>
              {owner && (
                <span className="row">
                  <button type="button" className="secondary small" aria-label={`Move up: ${item.title}`} disabled={busy || i === 0} onClick={() => move.mutate({ videoId: item.videoId, place: { before: list[i - 1]!.videoId } })}>
                    Move up
                  </button>
                  <button type="button" className="secondary small" aria-label={`Move down: ${item.title}`} disabled={busy || i === list.length - 1} onClick={() => move.mutate({ videoId: item.videoId, place: { after: list[i + 1]!.videoId } })}>
                    Move down
                  </button>
                  <button type="button" className="danger small" aria-label={`Remove: ${item.title}`} disabled={busy} onClick={() => remove.mutate({ playlistId: playlist.id, videoId: item.videoId })}>
                    Remove
                  </button>
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {items.hasNextPage && (
        <button type="button" className="secondary" disabled={items.isFetchingNextPage} onClick={() => void items.fetchNextPage()}>
          Load more
        </button>
      )}
      {move.isError && <Problem error={move.error} />}
      {remove.isError && <Problem error={remove.error} />}
    </>
  );
}

export default function Playlist() {
  const id = useParams().id!;
  const me = useSession()?.user;
  const playlist = usePlaylist(id);
  if (playlist.isPending) return <Loading />;
  if (playlist.isError) return playlist.error instanceof ApiError && playlist.error.status === 404 ? <NotFound /> : <ErrorMessage error={playlist.error} />;
  const p = playlist.data;
  const owner = me?.id === p.ownerId;
  return (
    <section>
      <h1>{p.title}</h1>
      <p className="muted">
        {visibilityLabel[p.visibility]} · {p.itemCount} {p.itemCount === 1 ? 'video' : 'videos'}
      </p>
      {p.description && <p className="description">{p.description}</p>}
      {owner && p.kind === 'regular' && <EditPlaylist playlist={p} />}
      <Items playlist={p} owner={owner} />
    </section>
  );
}
