import { lazy, Suspense, useRef, useState, type RefObject } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useProfile } from '../features/users/api.ts';
import { useQuery } from '@tanstack/react-query';
import { useSession } from '../api/session.ts';
import { Comments } from '../features/comments/Comments.tsx';
import { LikeButton } from '../features/likes/LikeButton.tsx';
import { SaveToPlaylist } from '../features/playlists/SaveToPlaylist.tsx';
import { AgeGate } from '../features/moderation/AgeGate.tsx';
import { ReportButton } from '../features/moderation/ReportButton.tsx';
import { videoQuery, type Video } from '../features/videos/api.ts';
import { EditVideoForm } from '../features/videos/EditVideoForm.tsx';
import { TranscodeStatus } from '../features/videos/TranscodeStatus.tsx';
import { UpNext } from '../features/videos/UpNext.tsx';
import { ViewHeartbeats } from '../features/views/use-heartbeats.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { HlsPlayer } from '../player/HlsPlayer.tsx';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';

// Money code loads only when a ready video shows its tip form.
const VideoSupportPanel = lazy(() => import('../features/money/SupportPanel.tsx').then((m) => ({ default: m.VideoSupportPanel })));
const SubscribeButton = lazy(() => import('../features/subscriptions/SubscribeButton.tsx'));

/** A subscriber-only video for someone without the channel's perks: Subscribe instead of the player; once subscribed, the video is read again. */
function SubscribeToWatch({ channelId, onPerks }: { channelId?: string; onPerks: () => void }) {
  return (
    <div className="status-panel" data-testid="subscribers-only">
      <p>
        <strong>Subscribe to watch.</strong> This video is for the channel’s subscribers.
      </p>
      {channelId && (
        <Suspense fallback={null}>
          <SubscribeButton channelId={channelId} onPerks={onPerks} />
        </Suspense>
      )}
    </div>
  );
}

/** The channel of a 403 `subscribers_only` answer (its details name it); undefined for any other error. */
function refusedChannel(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'subscribers_only') return undefined;
  return (error.details as { channelId?: string } | undefined)?.channelId ?? '';
}

function Owner({ id }: { id: string }) {
  const owner = useProfile(id);
  if (!owner.data) return null;
  return (
    <p>
      by <Link to={urls.channel(owner.data.username)}>{owner.data.displayName || owner.data.username}</Link>
    </p>
  );
}

/** The player, and the heartbeats that count the view and remember the position. */
function Playback({ video, src, media }: { video: Video; src: string; media: RefObject<HTMLVideoElement | null> }) {
  return (
    <>
      <HlsPlayer src={src} poster={video.thumbnailUrl} storyboardUrl={video.storyboardUrl} title={video.title} startAt={video.resumeAtSeconds} videoRef={media} />
      <ViewHeartbeats videoId={video.id} media={media} />
    </>
  );
}

export default function WatchVideo() {
  const id = useParams().id!;
  // While it transcodes, the socket pushes the percentage to its owner; the status is polled.
  const me = useSession()?.user;
  const [editing, setEditing] = useState(false);
  // Read afresh on every visit: the cached copy's view count and resume position are stale.
  const video = useQuery({
    ...videoQuery(id),
    refetchOnMount: 'always',
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'ready' && q.state.data.status !== 'failed' ? 3000 : false),
  });
  const media = useRef<HTMLVideoElement>(null);
  if (video.isPending || !video.isFetchedAfterMount) return <Loading />;
  if (video.isError) {
    const channelId = refusedChannel(video.error);
    if (channelId !== undefined)
      return (
        <article className="watch">
          <SubscribeToWatch channelId={channelId || undefined} onPerks={() => void video.refetch()} />
        </article>
      );
    return video.error instanceof ApiError && video.error.status === 404 ? <NotFound /> : <ErrorMessage error={video.error} />;
  }
  const v = video.data;
  const canEdit = me !== undefined && (me.id === v.ownerId || me.role === 'admin');
  return (
    <article className="watch">
      {v.status === 'ready' && v.ageRestricted && !canEdit ? (
        <AgeGate what="video">{v.playbackUrl && <Playback video={v} src={v.playbackUrl} media={media} />}</AgeGate>
      ) : v.status === 'ready' && v.playbackUrl ? (
        <Playback video={v} src={v.playbackUrl} media={media} />
      ) : (
        <TranscodeStatus video={v} />
      )}
      <h1>{v.title}</h1>
      <Owner id={v.ownerId} />
      <div className="row">
        {v.status === 'ready' && (
          <span className="muted" data-testid="view-count">
            {v.viewCount.toLocaleString()} {v.viewCount === 1 ? 'view' : 'views'}
          </span>
        )}
        {v.status === 'ready' && <LikeButton target="video" id={v.id} likeCount={v.likeCount} likedByMe={v.likedByMe} />}
        {me && v.status === 'ready' && <SaveToPlaylist videoId={v.id} />}
        {me && me.id !== v.ownerId && (
          <ReportButton targetType="video" targetId={v.id} what={`video ${v.title}`} currentTime={() => media.current?.currentTime} />
        )}
        {canEdit && !editing && (
          <button type="button" className="secondary" onClick={() => setEditing(true)}>
            Edit video
          </button>
        )}
      </div>
      {(v.category || v.tags.length > 0) && (
        <ul className="chips" aria-label="Category and tags">
          {v.category && <li>{v.category.name}</li>}
          {v.tags.map((tag) => (
            <li key={tag}>#{tag}</li>
          ))}
        </ul>
      )}
      {v.description && <p className="description">{v.description}</p>}
      {v.status === 'ready' && (
        <Suspense fallback={null}>
          <VideoSupportPanel videoId={v.id} ownerId={v.ownerId} />
        </Suspense>
      )}
      {editing && <EditVideoForm video={v} onDone={() => setEditing(false)} />}
      {v.status === 'ready' && <Comments videoId={v.id} ownerId={v.ownerId} commentCount={v.commentCount} />}
      {v.status === 'ready' && <UpNext videoId={v.id} />}
    </article>
  );
}
