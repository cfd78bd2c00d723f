import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useCategories } from '../categories/api.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import { useUpdateVideo, videoQuery, type Video, type VideoChanges } from './api.ts';
import { VideoVisibilitySelect } from './VideoVisibilitySelect.tsx';

/** The poster's object, without the short-lived signature that changes on every read. */
const posterPath = (url: string | null | undefined) => (url ? new URL(url).pathname : null);

/** Tags as typed: comma-separated; the API trims, lower-cases and deduplicates them. */
const parseTags = (text: string) => text.split(',').filter((tag) => tag.trim() !== '');

/** The owner's (or an admin's) edit of a video: details, category, tags and the poster's time. */
export function EditVideoForm({ video, onDone }: { video: Video; onDone: () => void }) {
  const categories = useCategories();
  const update = useUpdateVideo(video.id);
  // The poster's path when a new time was sent: polled until the workflow has replaced it.
  const [posterBefore, setPosterBefore] = useState<string | null>();
  const latest = useQuery({ ...videoQuery(video.id), refetchInterval: (q) => (posterBefore !== undefined && posterPath(q.state.data?.thumbnailUrl) === posterBefore ? 2000 : false) });
  const posterPending = posterBefore !== undefined;
  const newPoster = posterPending && posterPath(latest.data?.thumbnailUrl) !== posterBefore ? latest.data?.thumbnailUrl : undefined;
  const canChoosePoster = video.status === 'ready' && video.durationSeconds !== null && video.width !== null;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const poster = String(form.get('thumbnailAtSeconds') ?? '').trim();
    const changes: VideoChanges = {
      title: String(form.get('title')),
      description: String(form.get('description') ?? ''),
      visibility: form.get('visibility') as Video['visibility'],
      categoryId: String(form.get('categoryId') ?? '') || null,
      tags: parseTags(String(form.get('tags') ?? '')),
      ...(poster !== '' && Number(poster) !== video.thumbnailAtSeconds ? { thumbnailAtSeconds: Number(poster) } : {}),
    };
    update.mutate(changes, {
      onSuccess: () => {
        if (changes.thumbnailAtSeconds === undefined) onDone();
        else setPosterBefore(posterPath(video.thumbnailUrl));
      },
    });
  };

  return (
    <form onSubmit={submit} className="narrow" aria-labelledby="edit-video-heading">
      <h2 id="edit-video-heading">Edit video</h2>
      <label>
        Title
        <input name="title" required maxLength={100} defaultValue={video.title} />
      </label>
      <label>
        Description
        <textarea name="description" maxLength={5000} rows={3} defaultValue={video.description} />
      </label>
      <VideoVisibilitySelect defaultValue={video.visibility} />
      <label>
        Category
        <select name="categoryId" defaultValue={video.category?.id ?? ''}>
          <option value="">None</option>
          {categories.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tags (comma-separated, at most 20)
        <input name="tags" defaultValue={video.tags.join(', ')} />
      </label>
      {canChoosePoster && (
        <label>
          Thumbnail from second (0 to {Math.floor(video.durationSeconds! * 10) / 10})
          <input name="thumbnailAtSeconds" type="number" min={0} max={video.durationSeconds!} step="any" defaultValue={video.thumbnailAtSeconds ?? ''} />
        </label>
      )}
      {update.isError && <ErrorMessage error={update.error} />}
      {posterPending && (
        <div role="status">
          {newPoster ? (
            <>
              <p>Thumbnail updated.</p>
              <img src={newPoster} alt="The new thumbnail" width={320} height={180} className="poster-preview" />
            </>
          ) : (
            <p className="muted">Saved. The new thumbnail is being made…</p>
          )}
        </div>
      )}
      <div className="row">
        <button type="submit" disabled={update.isPending}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {posterPending ? 'Close' : 'Cancel'}
        </button>
      </div>
    </form>
  );
}
