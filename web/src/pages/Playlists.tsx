// /playlists — your playlists (watch later among them) and a form for a new one.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { playlistRefusal, useCreatePlaylist, useMyPlaylists, useWatchLater, type Visibility } from '../features/playlists/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VisibilitySelect } from '../features/playlists/VisibilitySelect.tsx';
import { urls } from '../urls.ts';

function NewPlaylist() {
  const create = useCreatePlaylist();
  const [title, setTitle] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('private');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ title, visibility }, { onSuccess: () => setTitle('') });
  };
  return (
    <form onSubmit={submit} className="narrow">
      <h2>New playlist</h2>
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={150} required />
      </label>
      <VisibilitySelect value={visibility} onChange={setVisibility} />
      <button type="submit" disabled={create.isPending}>
        Create playlist
      </button>
      {create.isError && (playlistRefusal(create.error) ? <p role="alert">{playlistRefusal(create.error)}</p> : <ErrorMessage error={create.error} />)}
    </form>
  );
}

function Mine() {
  // Watch later exists from the first visit here on.
  const watchLater = useWatchLater();
  const mine = useMyPlaylists(undefined, watchLater.isSuccess);
  if (watchLater.isError) return <ErrorMessage error={watchLater.error} />;
  if (watchLater.isPending || mine.isPending) return <Loading />;
  if (mine.isError) return <ErrorMessage error={mine.error} />;
  return (
    <ul aria-label="Your playlists">
      {mine.data.map((p) => (
        <li key={p.id}>
          <Link to={urls.playlist(p.id)}>{p.title}</Link> <span className="muted">· {p.itemCount} {p.itemCount === 1 ? 'video' : 'videos'} · {p.visibility}</span>
        </li>
      ))}
    </ul>
  );
}

export default function Playlists() {
  return (
    <RequireSignIn>
      <h1>Your playlists</h1>
      <Mine />
      <NewPlaylist />
    </RequireSignIn>
  );
}
