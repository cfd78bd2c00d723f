import { useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import { ReportButton } from '../features/moderation/ReportButton.tsx';
import { SubscribeButton } from '../features/subscriptions/SubscribeButton.tsx';
import { useFollow, useProfile } from '../features/users/api.ts';
import { useChannelVideos, type ChannelSort } from '../features/videos/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VideoGrid } from '../layout/VideoCard.tsx';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';

function FollowButton({ userId }: { userId: string }) {
  // The profile does not say whether you follow (it is the same for everyone); the button
  // shows what your last click did.
  const [following, setFollowing] = useState<boolean>();
  const follow = useFollow(userId);
  return (
    <>
      <button
        type="button"
        aria-pressed={following === true}
        disabled={follow.isPending}
        onClick={() => follow.mutate(!following, { onSuccess: (state) => setFollowing(state.following) })}
      >
        {following ? 'Following' : 'Follow'}
      </button>
      {follow.isError && <ErrorMessage error={follow.error} />}
    </>
  );
}

/** One of the channel's lists (uploads or past broadcasts), a keyset page at a time. */
function ChannelVideos({ userId, source, sort, heading, empty }: { userId: string; source: 'upload' | 'recording'; sort: ChannelSort; heading: string; empty: string }) {
  const videos = useChannelVideos(userId, source, sort);
  const id = `channel-${source}s`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{heading}</h2>
      {videos.isPending ? (
        <Loading />
      ) : videos.isError ? (
        <ErrorMessage error={videos.error} />
      ) : (
        <>
          <VideoGrid videos={videos.data.pages.flatMap((p) => p.items)} empty={empty} />
          {videos.hasNextPage && (
            <button type="button" className="secondary" onClick={() => void videos.fetchNextPage()} disabled={videos.isFetchingNextPage}>
              Load more
            </button>
          )}
        </>
      )}
    </section>
  );
}

export default function Channel() {
  const params = useParams();
  const { pathname } = useLocation();
  const username = params.username ?? pathname.replace(/^\/@/, '').replace(/\/$/, '');
  const profile = useProfile(username);
  const me = useSession()?.user;
  const [sort, setSort] = useState<ChannelSort>('newest');
  if (profile.isPending) return <Loading />;
  if (profile.isError) return profile.error instanceof ApiError && profile.error.status === 404 ? <NotFound /> : <ErrorMessage error={profile.error} />;
  const user = profile.data;
  const mine = me?.id === user.id;
  return (
    <>
      <section className="channel-header">
        <h1>{user.displayName || user.username}</h1>
        <p className="muted">
          @{user.username} · {user.followerCount} followers
        </p>
        {user.bio && <p>{user.bio}</p>}
        {user.liveStream && (
          <p className="live-banner">
            <span className="badge live">Live</span> Live now:{' '}
            <Link to={urls.stream(user.liveStream.id)}>{user.liveStream.title}</Link> <span className="muted">({user.liveStream.currentViewers} watching)</span>
          </p>
        )}
        {me && !mine && (
          <div className="row">
            <FollowButton userId={user.id} />
            <ReportButton targetType="user" targetId={user.id} what={`channel ${user.username}`} />
          </div>
        )}
        {mine ? (
          <p>
            <Link to={urls.subscribers()}>Your subscribers</Link>
          </p>
        ) : (
          <SubscribeButton channelId={user.id} />
        )}
      </section>
      <div className="row" role="group" aria-label="Sort videos">
        {(
          [
            ['newest', 'Newest'],
            ['most_viewed', 'Most viewed'],
          ] as const
        ).map(([value, label]) => (
          <button key={value} type="button" className="secondary small" aria-pressed={sort === value} onClick={() => setSort(value)}>
            {label}
          </button>
        ))}
      </div>
      <ChannelVideos userId={user.id} source="upload" sort={sort} heading={mine ? 'Your videos' : 'Videos'} empty="No videos yet." />
      <ChannelVideos userId={user.id} source="recording" sort={sort} heading="Past broadcasts" empty="No past broadcasts yet." />
    </>
  );
}
