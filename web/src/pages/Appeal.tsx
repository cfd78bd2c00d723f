// /appeal — the decisions about you or your content, and appealing them. A suspended or banned
// account's session is appeal-only (README "Appealing while suspended or banned"): the app
// shows this page (and notifications) and nothing else, says what the restriction is and until
// when, and lets the person appeal and talk with the moderators in the appeal's thread.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, refreshSession, unwrap } from '../api/client.ts';
import { isRestricted, session, useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { actionLabel, targetLabel, useAppeal, useMyCases, type AffectedUserCase } from '../features/moderation/api.ts';
import { AppealThread } from '../features/moderation/AppealThread.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';

const when = (iso: string) => new Date(iso).toLocaleString();

function Restriction() {
  const restricted = isRestricted(useSession());
  const me = useQuery({ queryKey: ['users', 'me', 'restriction'], queryFn: () => unwrap(api.GET('/api/v1/users/me', {})) });
  const restriction = me.data?.restriction;
  // The sanction is over (appeal upheld, suspension ended): a refresh gives a full session again.
  useEffect(() => {
    const current = session.get();
    if (me.isSuccess && restriction === null && current && restricted) void refreshSession(current.accessToken);
  }, [me.isSuccess, restriction, restricted]);
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorMessage error={me.error} />;
  if (!restriction) return restricted ? <p role="status">Your account is no longer restricted.</p> : null;
  return (
    <div className="status-panel" role="status">
      <p>
        <strong>{restriction.status === 'banned' ? 'Your account is banned.' : `Your account is suspended until ${restriction.until ? when(restriction.until) : 'further notice'}.`}</strong>
      </p>
      <p>
        You cannot watch, chat, stream or upload while it is {restriction.status}. You can read the decision below, appeal it, and talk with the moderators who review
        your appeal.
      </p>
    </div>
  );
}

function AppealForm({ caseId }: { caseId: string }) {
  const appeal = useAppeal(caseId);
  const id = useId();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const message = String(new FormData(e.currentTarget).get('message') ?? '').trim();
    if (message) appeal.mutate(message);
  };
  return (
    <form onSubmit={submit}>
      <label htmlFor={id}>Your appeal: why should this decision be reversed?</label>
      <textarea id={id} name="message" rows={4} maxLength={2000} required />
      {appeal.isError && <ErrorMessage error={appeal.error} />}
      <button type="submit" disabled={appeal.isPending}>
        Send appeal
      </button>
    </form>
  );
}

function CaseCard({ c }: { c: AffectedUserCase }) {
  const headingId = useId();
  const [now] = useState(() => Date.now());
  const open = new Date(c.appealDeadline).getTime() > now;
  return (
    <article className="case-card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {actionLabel(c.decision.action)}: {targetLabel(c.targetType).toLowerCase()}
      </h2>
      <dl className="case-facts">
        <dt>Rule</dt>
        <dd>{c.decision.rule}</dd>
        <dt>Moderator’s note</dt>
        <dd>{c.decision.note || '—'}</dd>
        {c.decision.durationSeconds !== null && (
          <>
            <dt>Duration</dt>
            <dd>{Math.round(c.decision.durationSeconds / 86_400)} days</dd>
          </>
        )}
        <dt>Decided</dt>
        <dd>{when(c.decidedAt)}</dd>
        <dt>Appeal by</dt>
        <dd>{when(c.appealDeadline)}</dd>
        <dt>Case</dt>
        <dd>{c.id}</dd>
      </dl>
      {c.appeal ? (
        <>
          <h3>Your appeal</h3>
          <p className="description">{c.appeal.message}</p>
          {c.appeal.upheld === null ? (
            <>
              <p role="status">Your appeal is waiting for a moderator who did not make the decision.</p>
              <AppealThread caseId={c.id} as="appellant" />
            </>
          ) : (
            <p role="status" className={c.appeal.upheld ? 'success' : undefined}>
              {c.appeal.upheld ? 'Your appeal was upheld: the decision is reversed.' : 'Your appeal was rejected.'}
              {c.appeal.note ? ` ${c.appeal.note}` : ''}
            </p>
          )}
        </>
      ) : open && c.status === 'decided' ? (
        <AppealForm caseId={c.id} />
      ) : (
        <p className="muted">This decision can no longer be appealed.</p>
      )}
    </article>
  );
}

function MyCases() {
  const cases = useMyCases();
  if (cases.isPending) return <Loading />;
  if (cases.isError) return <ErrorMessage error={cases.error} />;
  const list = cases.data.pages.flatMap((p) => p.items);
  return (
    <>
      {list.length === 0 ? <p className="muted">No moderation decisions about you or your content.</p> : list.map((c) => <CaseCard key={c.id} c={c} />)}
      {cases.hasNextPage && (
        <button type="button" className="secondary" disabled={cases.isFetchingNextPage} onClick={() => void cases.fetchNextPage()}>
          Load more
        </button>
      )}
    </>
  );
}

export default function Appeal() {
  const restricted = isRestricted(useSession());
  return (
    <RequireSignIn>
      <h1>{restricted ? 'Your account is restricted' : 'Moderation decisions'}</h1>
      <Restriction />
      <MyCases />
    </RequireSignIn>
  );
}
