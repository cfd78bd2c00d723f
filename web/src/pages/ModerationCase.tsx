// /moderation/cases/:id — one case for a moderator: the target as it was reported (the
// evidence snapshot), its reports and automatic signals, its history; claim it, decide it,
// and rule on its appeal (with the appeal's thread).
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import {
  actionLabel,
  decisionActions,
  isStaff,
  policyRules,
  targetLabel,
  useCase,
  useClaim,
  useDecide,
  useRuleOnAppeal,
  type DecisionAction,
  type ModerationCase as CaseRow,
  type PolicyRule,
} from '../features/moderation/api.ts';
import { AppealThread } from '../features/moderation/AppealThread.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';
import NotFound from './NotFound.tsx';

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function targetLink(c: Pick<CaseRow, 'targetType' | 'targetId'>, snapshot: Record<string, unknown>) {
  if (c.targetType === 'video') return urls.video(c.targetId);
  if (c.targetType === 'stream') return urls.stream(c.targetId);
  if (c.targetType === 'chat_message') return urls.stream(c.targetId.split('.')[0]!);
  if (c.targetType === 'comment') return typeof snapshot.videoId === 'string' ? urls.video(snapshot.videoId) : undefined;
  return typeof snapshot.username === 'string' ? urls.channel(snapshot.username) : undefined;
}

function Facts({ entries }: { entries: [string, unknown][] }) {
  return (
    <dl className="case-facts">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === null || v === undefined || v === '' ? '—' : show(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function DecisionForm({ caseId }: { caseId: string }) {
  const decide = useDecide(caseId);
  const [action, setAction] = useState<DecisionAction>('remove_content');
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const days = Number(form.get('days') ?? 0);
    decide.mutate({
      action,
      rule: String(form.get('rule')) as PolicyRule,
      note: String(form.get('note') ?? ''),
      ...(action === 'suspend' ? { durationSeconds: Math.round(days * 86_400) } : {}),
    });
  };
  if (decide.isSuccess) return <p role="status" className="success">Decided: {actionLabel(action)}.</p>;
  return (
    <form onSubmit={submit} className="narrow" aria-label="Decide">
      <label>
        Decision
        <select name="action" value={action} onChange={(e) => setAction(e.target.value as DecisionAction)}>
          {decisionActions.map(([a, label]) => (
            <option key={a} value={a}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Rule
        <select name="rule" required defaultValue="">
          <option value="" disabled>
            Choose the rule
          </option>
          {policyRules.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      {action === 'suspend' && (
        <label>
          Suspension (days)
          <input name="days" type="number" min={1} max={3650} step={1} required defaultValue={7} />
        </label>
      )}
      <label>
        Note to the user (the statement of reasons)
        <textarea name="note" rows={3} maxLength={2000} />
      </label>
      {decide.isError && <ErrorMessage error={decide.error} />}
      <button type="submit" disabled={decide.isPending}>
        Decide
      </button>
    </form>
  );
}

function AppealRuling({ caseId }: { caseId: string }) {
  const rule = useRuleOnAppeal(caseId);
  const [note, setNote] = useState('');
  if (rule.isSuccess) return <p role="status" className="success">{rule.data.upheld ? 'Appeal upheld: the decision is reversed.' : 'Appeal rejected.'}</p>;
  return (
    <form onSubmit={(e) => e.preventDefault()} className="narrow" aria-label="Rule on the appeal">
      <label>
        Ruling note (required to reject)
        <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={3} maxLength={2000} />
      </label>
      {rule.isError && <ErrorMessage error={rule.error} />}
      <div className="row">
        <button type="button" disabled={rule.isPending} onClick={() => rule.mutate({ upheld: true, note })}>
          Uphold appeal
        </button>
        <button type="button" className="danger" disabled={rule.isPending || !note.trim()} onClick={() => rule.mutate({ upheld: false, note })}>
          Reject appeal
        </button>
      </div>
    </form>
  );
}

function CaseView({ id }: { id: string }) {
  const me = useSession()!.user;
  const found = useCase(id);
  const claim = useClaim(id);
  if (found.isPending) return <Loading />;
  if (found.isError) return found.error instanceof ApiError && found.error.status === 404 ? <NotFound /> : <ErrorMessage error={found.error} />;
  const c = found.data;
  if (!('reports' in c)) {
    // The public part: a case about you (or your content) is never yours to review.
    return <p>This case is about you or your content. See <Link to={urls.appeal()}>your moderation cases</Link>.</p>;
  }
  const link = targetLink(c, c.snapshot);
  const claimedByMe = c.status === 'claimed' && c.claimedBy === me.id && (!c.claimExpiresAt || new Date(c.claimExpiresAt) > new Date());
  const decision = c.decision as { action?: string; rule?: string; note?: string } | null;
  return (
    <>
      <Facts
        entries={[
          ['Target', `${targetLabel(c.targetType)} ${c.targetId}`],
          ['Status', c.status],
          ['Priority', c.priority],
          ['Reporters', c.reportCount],
          ['Opened', new Date(c.createdAt).toLocaleString()],
          ['Decision due', c.slaDueAt && new Date(c.slaDueAt).toLocaleString()],
          ['Claimed', c.claimedBy ? (c.claimedBy === me.id ? 'by you' : 'by another moderator') : null],
          ['Decision', decision ? `${actionLabel(decision.action ?? '')} (${decision.rule ?? ''}) ${decision.note ?? ''}` : null],
        ]}
      />
      {link && (
        <p>
          <Link to={link}>Open the {targetLabel(c.targetType).toLowerCase()}</Link>
        </p>
      )}

      <h2>Review</h2>
      {claimedByMe || claim.isSuccess ? (
        // Kept after the decision too: its answer is said there.
        <DecisionForm caseId={id} />
      ) : c.status === 'open' || c.status === 'claimed' ? (
        <>
          <button type="button" disabled={claim.isPending} onClick={() => claim.mutate(undefined)}>
            Claim
          </button>
          {claim.isError && <ErrorMessage error={claim.error} />}
        </>
      ) : (
        <p className="muted">This case is {c.status}.</p>
      )}

      {c.appeal && (
        <section className="case-card" aria-labelledby="appeal-heading">
          <h2 id="appeal-heading">Appeal</h2>
          <p className="description">{c.appeal.message}</p>
          {c.appeal.upheld === null ? (
            <>
              <AppealThread caseId={id} as="moderator" />
              <h3>Ruling</h3>
              <AppealRuling caseId={id} />
            </>
          ) : (
            <p>
              {c.appeal.upheld ? 'Upheld' : 'Rejected'}
              {c.appeal.note ? `: ${c.appeal.note}` : ''}
            </p>
          )}
        </section>
      )}

      <h2>Evidence</h2>
      <Facts entries={Object.entries(c.snapshot)} />

      <h2>Reports</h2>
      {c.reports.length === 0 ? (
        <p className="muted">No reports.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col">Details</th>
              <th scope="col">At</th>
              <th scope="col">Filed</th>
            </tr>
          </thead>
          <tbody>
            {c.reports.map((r) => (
              <tr key={r.id}>
                <td>{r.reason}</td>
                <td>{r.details || '—'}</td>
                <td>{r.timestampSeconds === null ? '—' : `${r.timestampSeconds} s`}</td>
                <td>{new Date(r.createdAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Automatic signals</h2>
      {c.signals.length === 0 ? (
        <p className="muted">No signals.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Reason</th>
              <th scope="col">Score</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {c.signals.map((s) => (
              <tr key={s.id}>
                <td>{s.source}</td>
                <td>{s.reason}</td>
                <td>{s.score}</td>
                <td>{show(s.detail ?? '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>History</h2>
      <ol className="thread" aria-label="History">
        {c.history.map((h) => (
          <li key={h.id}>
            <strong>{h.action}</strong> by {h.actorName} <span className="muted">{new Date(h.at).toLocaleString()}</span>
          </li>
        ))}
      </ol>
    </>
  );
}

export default function ModerationCase() {
  const id = useParams().id!;
  const role = useSession()?.user.role;
  return (
    <RequireSignIn>
      <p>
        <Link to={urls.moderation()}>← Moderation queue</Link>
      </p>
      <h1>Case {id}</h1>
      {isStaff(role) ? <CaseView id={id} /> : <p className="error">Only moderators and administrators review cases.</p>}
    </RequireSignIn>
  );
}
