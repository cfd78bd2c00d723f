// "Like" on the watch pages: a toggle (aria-pressed; its name stays "Like", the state is the
// pressed state) with the exact count beside it. Signed out, it leads to sign-in and back here.
import { useLocation, useNavigate } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useSession } from '../../api/session.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import { urls } from '../../urls.ts';
import { useLike, type LikeTarget } from './api.ts';

function refusal(error: unknown): string | undefined {
  if (error instanceof ApiError && error.status === 429) return 'You have liked and unliked too often in the last minute. Try again shortly.';
  return undefined;
}

export function LikeButton({ target, id, likeCount, likedByMe }: { target: LikeTarget; id: string; likeCount: number; likedByMe: boolean | null }) {
  const signedIn = useSession() !== null;
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const like = useLike(target, id);
  const liked = signedIn && likedByMe === true;
  const onClick = () => (signedIn ? like.mutate(!liked) : navigate(urls.signIn(pathname)));
  return (
    <div className="like">
      <button type="button" className="secondary" aria-pressed={liked} disabled={like.isPending} onClick={onClick}>
        <span aria-hidden="true">{liked ? '♥' : '♡'}</span> Like
      </button>
      <span data-testid="like-count">
        {likeCount} {likeCount === 1 ? 'like' : 'likes'}
      </span>
      {like.isError && (refusal(like.error) ? <p role="alert">{refusal(like.error)}</p> : <ErrorMessage error={like.error} />)}
    </div>
  );
}
