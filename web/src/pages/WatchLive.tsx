// /streams/:id — a live stream: the player, its status as `stream_status` frames report it,
// the viewer count from `viewers` frames, a follow button and the chat. Once ended, a link
// to the recording when its video exists. Below the player: gifts, tips and gifted
// subscriptions (SupportPanel); in the header, Subscribe with the channel's tiers.
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import { LikeButton } from '../features/likes/LikeButton.tsx';
import { ReportButton } from '../features/moderation/ReportButton.tsx';
import { ChatPanel } from '../features/chat/ChatPanel.tsx';
import { useDeleteChatMessage, useStream } from '../features/live/api.ts';
import { LivePlayer } from '../features/live/LivePlayer.tsx';
import { AgeGate } from '../features/moderation/AgeGate.tsx';
import { useFollow, useProfile } from '../features/users/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { realtime } from '../realtime/socket.ts';
import { useRealtimeFrames } from '../realtime/use-realtime.ts';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';
import '../live.css';

const ON_AIR = ['live', 'reconnecting'];

// Gifts and tips load after the player: a first-time viewer's download stays within budget.
const SupportPanel = lazy(() => import('../features/money/SupportPanel.tsx').then((m) => ({ default: m.SupportPanel })));
// So does the Subscribe button (with its tier picker).
const SubscribeButton = lazy(() => import('../features/subscriptions/SubscribeButton.tsx'));

const statusText: Record<string, string> = {
  idle: 'Not live yet',
  scheduled: 'Scheduled',
  live: 'Live',
  reconnecting: 'Reconnecting: the broadcaster’s connection dropped, waiting for it to come back…',
  ended: 'This stream has ended',
  cancelled: 'This stream was cancelled',
};

function FollowOwner({ ownerId }: { ownerId: string }) {
  const owner = useProfile(ownerId);
  const follow = useFollow(ownerId);
  const [following, setFollowing] = useState<boolean>();
  if (!owner.data) return null;
  return (
    <div className="row live-owner">
      <Link to={urls.channel(owner.data.username)}>{owner.data.displayName || owner.data.username}</Link>
      <button type="button" aria-pressed={following === true} disabled={follow.isPending} onClick={() => follow.mutate(!following, { onSuccess: (s) => setFollowing(s.following) })}>
        {following ? 'Following' : 'Follow'}
      </button>
      {follow.isError && <ErrorMessage error={follow.error} />}
    </div>
  );
}

function LiveVideo({ src, title, epoch, reconnecting }: { src: string; title: string; epoch: number; reconnecting: boolean }) {
  return (
    <div className="live-player-wrap">
      <LivePlayer src={src} title={title} epoch={epoch} />
      {reconnecting && (
        <p className="live-overlay" aria-hidden="true">
          Reconnecting…
        </p>
      )}
    </div>
  );
}

export default function WatchLive() {
  const { id = '' } = useParams();
  const me = useSession()?.user;
  // Re-read now and then: chat settings change without a frame, and the VOD appears after the end.
  const stream = useStream(id, 15_000);
  const [status, setStatus] = useState<string>();
  const [viewers, setViewers] = useState<number>();
  const [epoch, setEpoch] = useState(0);
  const remove = useDeleteChatMessage(id);

  const lastStatus = useRef<string>(undefined);
  // Status frames are sent on changes only: after the socket was away, ask the API.
  const { refetch } = stream;
  useEffect(
    () =>
      realtime.onState((state) => {
        if (state !== 'open') return;
        setStatus(undefined);
        void refetch();
      }),
    [refetch],
  );
  // The chat panel joins the stream's room; its status and viewer frames come with it.
  useRealtimeFrames((frame) => {
    if (frame.type === 'stream_status' && frame.streamId === id) {
      // Back on air (or on air for the first time): a fresh player at the new live edge.
      if (frame.status === 'live' && lastStatus.current !== 'live') setEpoch((e) => e + 1);
      lastStatus.current = frame.status;
      setStatus(frame.status);
      void stream.refetch();
    } else if (frame.type === 'viewers' && frame.streamId === id) setViewers(frame.count);
  });

  if (stream.isPending) return <Loading />;
  if (stream.isError) return stream.error instanceof ApiError && stream.error.status === 404 ? <NotFound /> : <ErrorMessage error={stream.error} />;
  const s = stream.data;
  const current = status ?? s.status;
  const onAir = ON_AIR.includes(current);
  const playbackUrl = s.playbackUrl;
  const mine = me?.id === s.ownerId;
  const moderator = mine || me?.role === 'admin' || me?.role === 'moderator';

  return (
    <div className="live-layout">
      <div className="live-main">
        {onAir && s.ageRestricted && !mine && me?.role !== 'admin' ? (
          <AgeGate what="stream">{playbackUrl && <LiveVideo src={playbackUrl} title={s.title} epoch={epoch} reconnecting={current === 'reconnecting'} />}</AgeGate>
        ) : onAir && playbackUrl ? (
          <LiveVideo src={playbackUrl} title={s.title} epoch={epoch} reconnecting={current === 'reconnecting'} />
        ) : (
          <div className="status-panel">
            <p>{statusText[current] ?? current}</p>
            {current === 'ended' && (s.vodVideoId ? <Link to={urls.video(s.vodVideoId)}>Watch the recording</Link> : <p className="muted">The recording will be here once it is processed.</p>)}
          </div>
        )}
        <h1>{s.title}</h1>
        <p className="row live-meta">
          <span role="status" data-testid="stream-status" className={current === 'live' ? 'badge live' : 'badge'}>
            {current === 'live' ? 'LIVE' : (statusText[current] ?? current)}
          </span>
          {onAir && (
            <span data-testid="viewer-count" aria-label={`${viewers ?? s.viewers} watching`}>
              {viewers ?? s.viewers} watching
            </span>
          )}
        </p>
        <div className="row">
          <LikeButton target="stream" id={s.id} likeCount={s.likeCount} likedByMe={s.likedByMe} />
          {me && !mine && (
            <>
              <FollowOwner ownerId={s.ownerId} />
              <ReportButton targetType="stream" targetId={s.id} what={`stream ${s.title}`} />
            </>
          )}
        </div>
        {!mine && (
          <Suspense fallback={null}>
            <SubscribeButton channelId={s.ownerId} />
          </Suspense>
        )}
        {s.description && <p className="description">{s.description}</p>}
        {mine && (
          <p>
            <Link to="/dashboard">Manage this stream in your dashboard</Link>
          </p>
        )}
        <Suspense fallback={null}>
          <SupportPanel streamId={id} ownerId={s.ownerId} onAir={onAir} open={current !== 'cancelled'} />
        </Suspense>
      </div>
      <ChatPanel
        streamId={id}
        chatMode={s.chatMode}
        slowModeSeconds={s.chatSlowModeSeconds}
        closed={current === 'ended' || current === 'cancelled'}
        onDelete={moderator ? (messageId) => remove.mutate(messageId) : undefined}
      />
    </div>
  );
}
