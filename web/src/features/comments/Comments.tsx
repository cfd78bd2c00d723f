// The watch page's comments: sort, post, reply (threads two levels deep; answering a depth-2
// reply joins its thread), edit and delete (yours; the video's owner and moderators delete
// any), pin (the owner), like and report. Each comment is an article named by its author.
import { useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useSession } from '../../api/session.ts';
import { ErrorMessage, Loading } from '../../layout/Status.tsx';
import { urls } from '../../urls.ts';
import { ReportButton } from '../moderation/ReportButton.tsx';
import { isStaff } from '../moderation/roles.ts';
import { useComments, useDeleteComment, useEditComment, useLikeComment, usePinComment, usePostComment, useReplies, type Comment, type CommentSort } from './api.ts';

function refusal(error: unknown): string | undefined {
  if (error instanceof ApiError && error.status === 429) return 'You have posted too many comments in the last minute. Try again shortly.';
  return undefined;
}

const Failure = ({ error }: { error: unknown }) => (refusal(error) ? <p className="error" role="alert">{refusal(error)}</p> : <ErrorMessage error={error} />);

/** A new comment or a reply; the Idempotency-Key lives until the post succeeds or the words change. */
function Composer({ videoId, parentId, label, onDone }: { videoId: string; parentId?: string; label: string; onDone?: () => void }) {
  const post = usePostComment(videoId);
  const key = useRef(crypto.randomUUID());
  const [body, setBody] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!body.trim()) return;
    post.mutate(
      { body, parentId, idempotencyKey: key.current },
      {
        onSuccess: () => {
          key.current = crypto.randomUUID();
          setBody('');
          onDone?.();
        },
      },
    );
  };
  return (
    <form className="comment-form" onSubmit={submit}>
      <label>
        {label}
        <textarea
          rows={2}
          value={body}
          onChange={(e) => {
            // Other words are another comment: only a resend of the same words reuses the key.
            key.current = crypto.randomUUID();
            setBody(e.target.value);
          }}
        />
      </label>
      {post.isError && <Failure error={post.error} />}
      <div className="row">
        <button type="submit" disabled={post.isPending || !body.trim()}>
          {parentId ? 'Post reply' : 'Comment'}
        </button>
        {onDone && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function EditForm({ videoId, comment, onDone }: { videoId: string; comment: Comment; onDone: () => void }) {
  const edit = useEditComment(videoId);
  const [body, setBody] = useState(comment.body ?? '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    edit.mutate({ id: comment.id, body }, { onSuccess: onDone });
  };
  return (
    <form className="comment-form" onSubmit={submit}>
      <label>
        Edit your comment
        <textarea rows={2} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      {edit.isError && <Failure error={edit.error} />}
      <div className="row">
        <button type="submit" disabled={edit.isPending || !body.trim()}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Replies({ videoId, ownerId, parent }: { videoId: string; ownerId: string; parent: Comment }) {
  const replies = useReplies(videoId, parent.id, true);
  if (replies.isPending) return <Loading what="Loading replies…" />;
  if (replies.isError) return <ErrorMessage error={replies.error} />;
  return (
    <div className="comment-replies">
      {replies.data.pages.flatMap((p) => p.items).map((r) => (
        <CommentItem key={r.id} videoId={videoId} ownerId={ownerId} comment={r} />
      ))}
      {replies.hasNextPage && (
        <button type="button" className="secondary small" disabled={replies.isFetchingNextPage} onClick={() => void replies.fetchNextPage()}>
          More replies
        </button>
      )}
    </div>
  );
}

function CommentItem({ videoId, ownerId, comment }: { videoId: string; ownerId: string; comment: Comment }) {
  const me = useSession()?.user;
  const { pathname } = useLocation();
  const headingId = useId();
  const [mode, setMode] = useState<'view' | 'reply' | 'edit'>('view');
  const [showReplies, setShowReplies] = useState(false);
  const like = useLikeComment(videoId);
  const remove = useDeleteComment(videoId);
  const pin = usePinComment(videoId);
  const who = comment.author ? comment.author.displayName || comment.author.username : 'Deleted comment';
  const mine = me !== undefined && comment.author?.id === me.id;
  const mayDelete = !comment.deleted && me !== undefined && (mine || me.id === ownerId || isStaff(me.role));
  const failed = like.error ?? remove.error ?? pin.error;

  return (
    <article className={`comment${comment.pinned ? ' pinned' : ''}`} aria-labelledby={headingId}>
      <header className="comment-meta">
        <h3 id={headingId}>{comment.author ? <Link to={urls.channel(comment.author.username)}>{who}</Link> : who}</h3>
        <time dateTime={comment.createdAt}>{new Date(comment.createdAt).toLocaleString()}</time>
        {comment.edited && <span className="muted">(edited)</span>}
        {comment.pinned && <span className="badge">Pinned by the creator</span>}
      </header>
      {mode === 'edit' ? (
        <EditForm videoId={videoId} comment={comment} onDone={() => setMode('view')} />
      ) : (
        <p className={comment.deleted ? 'muted comment-body' : 'comment-body'}>{comment.deleted ? 'This comment was removed.' : comment.body}</p>
      )}
      {!comment.deleted && (
        <div className="row comment-actions">
          <button
            type="button"
            className="secondary small"
            aria-pressed={comment.likedByMe === true}
            disabled={!me || like.isPending}
            onClick={() => like.mutate({ id: comment.id, liked: !comment.likedByMe })}
          >
            Like ({comment.likeCount})
          </button>
          {me ? (
            <button type="button" className="secondary small" onClick={() => setMode(mode === 'reply' ? 'view' : 'reply')}>
              Reply
            </button>
          ) : (
            <Link to={urls.signIn(pathname)}>Sign in to reply</Link>
          )}
          {mine && (
            <button type="button" className="secondary small" onClick={() => setMode('edit')}>
              Edit
            </button>
          )}
          {mayDelete && (
            <button type="button" className="secondary small" disabled={remove.isPending} onClick={() => remove.mutate(comment.id)}>
              Delete
            </button>
          )}
          {me?.id === ownerId && comment.depth === 0 && (
            <button type="button" className="secondary small" disabled={pin.isPending} onClick={() => pin.mutate({ id: comment.id, pinned: !comment.pinned })}>
              {comment.pinned ? 'Unpin' : 'Pin'}
            </button>
          )}
          {me && !mine && <ReportButton small targetType="comment" targetId={comment.id} what={`comment by ${who}`} />}
        </div>
      )}
      {failed && <Failure error={failed} />}
      {mode === 'reply' && <Composer videoId={videoId} parentId={comment.id} label={`Reply to ${who}`} onDone={() => setMode('view')} />}
      {comment.depth < 2 && comment.replyCount > 0 && (
        <button type="button" className="secondary small" aria-expanded={showReplies} onClick={() => setShowReplies(!showReplies)}>
          {showReplies ? 'Hide replies' : `${comment.replyCount} ${comment.replyCount === 1 ? 'reply' : 'replies'}`}
        </button>
      )}
      {showReplies && <Replies videoId={videoId} ownerId={ownerId} parent={comment} />}
    </article>
  );
}

export function Comments({ videoId, ownerId, commentCount }: { videoId: string; ownerId: string; commentCount: number }) {
  const me = useSession()?.user;
  const { pathname } = useLocation();
  const [sort, setSort] = useState<CommentSort>('newest');
  const comments = useComments(videoId, sort);
  return (
    <section className="comments" aria-labelledby="comments-heading">
      <div className="row comments-head">
        <h2 id="comments-heading">
          {commentCount} {commentCount === 1 ? 'comment' : 'comments'}
        </h2>
        <label>
          Sort by{' '}
          <select value={sort} onChange={(e) => setSort(e.target.value as CommentSort)}>
            <option value="newest">Newest</option>
            <option value="top">Top</option>
          </select>
        </label>
      </div>
      {me ? (
        <Composer videoId={videoId} label="Add a comment" />
      ) : (
        <p>
          <Link to={urls.signIn(pathname)}>Sign in to comment</Link>
        </p>
      )}
      {comments.isPending ? (
        <Loading what="Loading comments…" />
      ) : comments.isError ? (
        <ErrorMessage error={comments.error} />
      ) : (
        <>
          {comments.data.pages.flatMap((p) => p.items).map((c) => (
            <CommentItem key={c.id} videoId={videoId} ownerId={ownerId} comment={c} />
          ))}
          {comments.hasNextPage && (
            <button type="button" className="secondary" disabled={comments.isFetchingNextPage} onClick={() => void comments.fetchNextPage()}>
              More comments
            </button>
          )}
        </>
      )}
    </section>
  );
}
