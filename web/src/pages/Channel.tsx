import { useState } from 'react';
import { useLocation, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import { ReportButton } from '../features/moderation/ReportButton.tsx';
import { useFollow, useProfile } from '../features/users/api.ts';
import { useVideos } from '../features/videos/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { VideoGrid } from '../layout/VideoCard.tsx';
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

export default function Channel() {
  const params = useParams();
  const { pathname } = useLocation();
  const username = params.username ?? pathname.replace(/^\/@/, '').replace(/\/$/, '');
  const profile = useProfile(username);
  const me = useSession()?.user;
  const videos = useVideos({ ownerId: profile.data?.id }, profile.isSuccess);
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
        {me && !mine && (
          <div className="row">
            <FollowButton userId={user.id} />
            <ReportButton targetType="user" targetId={user.id} what={`channel ${user.username}`} />
          </div>
        )}
      </section>
      <section aria-labelledby="channel-videos">
        <h2 id="channel-videos">{mine ? 'Your videos' : 'Videos'}</h2>
        {videos.isPending ? <Loading /> : videos.isError ? <ErrorMessage error={videos.error} /> : <VideoGrid videos={videos.data} empty="No videos yet." />}
      </section>
    </>
  );
}
