// An appeal's message thread, oldest first, with a form to write in it: the appellant and the
// moderators who may rule on it talk here while the appeal waits (README "The appeal thread").
import { useId, useRef, useState, type FormEvent } from 'react';
import { ErrorMessage, Loading } from '../../layout/Status.tsx';
import { useAppealMessages, usePostAppealMessage } from './api.ts';

export function AppealThread({ caseId, as }: { caseId: string; as: 'appellant' | 'moderator' }) {
  const thread = useAppealMessages(caseId);
  const post = usePostAppealMessage(caseId);
  const [text, setText] = useState('');
  // One key per message being written: a retried send (after a network error) is the same message.
  const key = useRef(crypto.randomUUID());
  const headingId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    post.mutate(
      { message: text.trim(), key: key.current },
      {
        onSuccess: () => {
          setText('');
          key.current = crypto.randomUUID();
        },
      },
    );
  };
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>Appeal messages</h3>
      {thread.isPending ? (
        <Loading />
      ) : thread.isError ? (
        <ErrorMessage error={thread.error} />
      ) : thread.data.length === 0 ? (
        <p className="muted">No messages yet.</p>
      ) : (
        <ol className="thread" aria-label="Appeal messages">
          {thread.data.map((m) => (
            <li key={m.id} className={m.authorRole === as ? 'mine' : undefined}>
              <strong>{m.authorRole === as ? 'You' : m.authorRole === 'moderator' ? 'Moderator' : 'Appellant'}</strong>{' '}
              <span className="muted">{new Date(m.createdAt).toLocaleString()}</span>
              {'\n'}
              {m.body}
            </li>
          ))}
        </ol>
      )}
      {!thread.isError && (
        <form onSubmit={submit}>
          <label>
            Message
            <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} maxLength={2000} required />
          </label>
          {post.isError && <ErrorMessage error={post.error} />}
          <button type="submit" disabled={post.isPending}>
            Send message
          </button>
        </form>
      )}
    </section>
  );
}
