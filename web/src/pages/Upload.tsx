import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useDeleteVideo, useOwnVideos, type Video } from '../features/videos/api.ts';
import { uploadVideo, type UploadProgress } from '../features/videos/upload.ts';
import { VideoVisibilitySelect } from '../features/videos/VideoVisibilitySelect.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function UploadForm() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [progress, setProgress] = useState<UploadProgress>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // One key per file picked: a retry of the same upload reuses the video it created.
  const key = useRef(crypto.randomUUID());
  const abort = useRef<AbortController>(null);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const file = form.get('file');
    if (!(file instanceof File) || file.size === 0) return setError(new Error('Choose a video file first.'));
    setBusy(true);
    setError(undefined);
    setProgress({ loaded: 0, total: file.size });
    abort.current = new AbortController();
    try {
      const video = await uploadVideo(
        {
          file,
          title: String(form.get('title')),
          description: String(form.get('description') ?? ''),
          visibility: form.get('visibility') as Video['visibility'],
          idempotencyKey: key.current,
        },
        setProgress,
        abort.current.signal,
      );
      key.current = crypto.randomUUID();
      void queries.invalidateQueries({ queryKey: ['videos', 'list'] });
      await navigate(urls.video(video.id));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const percent = progress ? Math.floor((progress.loaded / Math.max(1, progress.total)) * 100) : 0;
  return (
    <form onSubmit={(e) => void submit(e)} className="narrow">
      <label>
        Video file
        <input name="file" type="file" accept="video/*,audio/*" required onChange={() => (key.current = crypto.randomUUID())} />
      </label>
      <label>
        Title
        <input name="title" required maxLength={100} />
      </label>
      <label>
        Description
        <textarea name="description" maxLength={5000} rows={3} />
      </label>
      <VideoVisibilitySelect defaultValue="public" />
      {progress && (
        <div className="progress">
          <label htmlFor="upload-progress">
            Uploading: <span data-testid="upload-percent">{percent}%</span>
          </label>
          <progress id="upload-progress" max={100} value={percent} />
        </div>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <div className="row">
        <button type="submit" disabled={busy}>
          {error !== undefined ? 'Try again' : 'Upload'}
        </button>
        {busy && (
          <button type="button" className="secondary" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function MyVideos({ ownerId }: { ownerId: string }) {
  const videos = useOwnVideos(ownerId);
  const remove = useDeleteVideo();
  if (videos.isPending) return <Loading />;
  if (videos.isError) return <ErrorMessage error={videos.error} />;
  if (videos.data.length === 0) return <p className="muted">You have not uploaded anything yet.</p>;
  return (
    <table>
      <caption className="visually-hidden">Your videos and their status</caption>
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Status</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {videos.data.map((v) => (
          <tr key={v.id}>
            <td>
              <Link to={urls.video(v.id)}>{v.title}</Link>
            </td>
            <td>{v.status === 'processing' ? `processing ${v.progress}%` : v.status}</td>
            <td>
              <button type="button" className="danger small" onClick={() => remove.mutate(v.id)} disabled={remove.isPending} aria-label={`Delete ${v.title}`}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function UploadPage() {
  const user = useSession()!.user;
  return (
    <>
      <h1>Upload a video</h1>
      <UploadForm />
      <section aria-labelledby="my-videos">
        <h2 id="my-videos">Your videos</h2>
        <MyVideos ownerId={user.id} />
      </section>
    </>
  );
}

export default function Upload() {
  return (
    <RequireSignIn>
      <UploadPage />
    </RequireSignIn>
  );
}
