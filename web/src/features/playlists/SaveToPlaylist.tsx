// "Save" on the watch page: a disclosure with a checkbox per playlist of yours (watch later
// first; checked when it holds this video) and a small form for a new playlist that gets it.
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../layout/Status.tsx';
import { playlistRefusal, useAddToPlaylist, useCreatePlaylist, useMyPlaylists, useRemoveFromPlaylist, useWatchLater } from './api.ts';

function Problem({ error }: { error: unknown }) {
  const refusal = playlistRefusal(error);
  return refusal ? <p role="alert">{refusal}</p> : <ErrorMessage error={error} />;
}

function Choices({ videoId }: { videoId: string }) {
  // Asked first so the list below includes it.
  const watchLater = useWatchLater();
  const mine = useMyPlaylists(videoId, watchLater.isSuccess);
  const add = useAddToPlaylist();
  const remove = useRemoveFromPlaylist();
  const create = useCreatePlaylist();
  const [title, setTitle] = useState('');
  // What the person just ticked shows at once; the re-read list confirms it (or a failure undoes it).
  const [ticked, setTicked] = useState<Record<string, boolean>>({});
  const toggle = (playlistId: string, on: boolean) => {
    setTicked((t) => ({ ...t, [playlistId]: on }));
    (on ? add : remove).mutate({ playlistId, videoId }, { onError: () => setTicked(({ [playlistId]: _, ...rest }) => rest) });
  };
  if (watchLater.isError) return <ErrorMessage error={watchLater.error} />;
  if (!watchLater.isSuccess || mine.isPending) return <p className="muted">Loading your playlists…</p>;
  if (mine.isError) return <ErrorMessage error={mine.error} />;
  const playlists = [...mine.data].sort((a, b) => Number(b.kind === 'watch_later') - Number(a.kind === 'watch_later'));
  const busy = add.isPending || remove.isPending || create.isPending;
  const createAndSave = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ title, visibility: 'private' }, { onSuccess: (p) => add.mutate({ playlistId: p.id, videoId }, { onSuccess: () => setTitle('') }) });
  };
  return (
    <>
      <fieldset>
        <legend>Save to…</legend>
        {playlists.map((p) => (
          <label key={p.id} className="check">
            <input
              type="checkbox"
              checked={ticked[p.id] ?? p.hasVideo === true}
              disabled={busy}
              onChange={(e) => toggle(p.id, e.target.checked)}
            />
            {p.title}
          </label>
        ))}
      </fieldset>
      <form onSubmit={createAndSave} className="row">
        <label>
          New playlist
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={150} required />
        </label>
        <button type="submit" disabled={busy}>
          Create and save
        </button>
      </form>
      {[add, remove, create].map((m, i) => m.isError && <Problem key={i} error={m.error} />)}
    </>
  );
}

export function SaveToPlaylist({ videoId }: { videoId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="save-menu" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary className="button secondary">Save</summary>
      {open && <Choices videoId={videoId} />}
    </details>
  );
}
