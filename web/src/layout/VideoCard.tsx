import { Link } from 'react-router';
import type { Video } from '../features/videos/api.ts';
import { urls } from '../urls.ts';

export const formatDuration = (seconds: number | null) => {
  if (seconds === null) return '';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** A card's thumbnail and title, linking to the video. */
export function VideoCardLink({ video }: { video: Pick<Video, 'id' | 'title' | 'thumbnailUrl'> }) {
  return (
    <Link to={urls.video(video.id)}>
      {video.thumbnailUrl ? <img src={video.thumbnailUrl} alt="" width={320} height={180} loading="lazy" /> : <div className="thumb-placeholder" aria-hidden="true" />}
      <span className="card-title">{video.title}</span>
    </Link>
  );
}

export function VideoCard({ video }: { video: Video }) {
  return (
    <li className="card">
      <VideoCardLink video={video} />
      <span className="muted">
        {video.status === 'ready' ? formatDuration(video.durationSeconds) : video.status}
        {video.visibility === 'subscribers' && ' · Subscribers only'}
      </span>
    </li>
  );
}

export function VideoGrid({ videos, empty }: { videos: Video[]; empty: string }) {
  if (videos.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="grid">
      {videos.map((v) => (
        <VideoCard key={v.id} video={v} />
      ))}
    </ul>
  );
}
