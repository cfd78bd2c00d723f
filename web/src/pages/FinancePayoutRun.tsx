// /finance/payout-runs/:id — one payout run, followed live while it is open: its phase and
// totals, its items, and what finance does with it: approve (a different person than its
// starter: the API's refusal is shown in its words), optionally excluding creators ticked in
// the items table, cancel, fetch the pain.001 bank file, upload the bank's status report, and
// settle a sent item by hand.
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useSession } from '../api/session.ts';
import { FinanceFrame, TableScroll } from '../features/finance/FinanceFrame.tsx';
import {
  formatAmount,
  phaseLabel,
  useApproveRun,
  useBankFileLink,
  useCancelRun,
  usePayoutRun,
  useSettleItem,
  useUploadBankStatus,
  type PayoutItem,
  type PayoutRun,
} from '../features/finance/api.ts';
import { useQuery } from '@tanstack/react-query';
import { profileQuery } from '../features/users/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

/** A user's username once known (their id's start until then). */
function useUserProfile(id: string | null) {
  return useQuery({ ...profileQuery(id ?? ''), enabled: Boolean(id), staleTime: 5 * 60_000 });
}

function UserName({ id }: { id: string | null }) {
  const profile = useUserProfile(id);
  if (!id) return <>—</>;
  if (!profile.data) return <span className="mono">{id.slice(0, 8)}</span>;
  return <Link to={urls.channel(profile.data.username)}>{profile.data.username}</Link>;
}

const when = (iso: string | null) => (iso ? <time dateTime={iso}>{new Date(iso).toLocaleString()}</time> : '—');

function Approval({ run, excluded }: { run: PayoutRun; excluded: ReadonlySet<string> }) {
  const approve = useApproveRun(run.id);
  const cancel = useCancelRun(run.id);
  const me = useSession()?.user.id;
  const approvable = run.status === 'awaiting_approval';
  const cancellable = run.status === 'selecting' || run.status === 'awaiting_approval';
  // The run moves on within a second of an approval: the section stays to say what was done.
  if (!approvable && !cancellable && !approve.isSuccess && !cancel.isSuccess) return null;
  return (
    <section aria-labelledby="approval-heading">
      <h2 id="approval-heading">Approval</h2>
      <p className="muted">
        A finance user other than the one who started the run approves it; payouts go out then. Until then it can be cancelled, which releases every reservation.
        {me === run.startedBy && ' You started this run.'}
      </p>
      <div className="row">
        {approvable && (
          <button type="button" onClick={() => approve.mutate([...excluded])} disabled={approve.isPending}>
            {excluded.size ? `Approve run, excluding ${excluded.size} ${excluded.size === 1 ? 'creator' : 'creators'}` : 'Approve run'}
          </button>
        )}
        {cancellable && (
          <button type="button" className="danger" onClick={() => cancel.mutate(undefined)} disabled={cancel.isPending}>
            Cancel run
          </button>
        )}
      </div>
      {approve.isError && <ErrorMessage error={approve.error} />}
      {approve.isSuccess && (
        <p className="success" role="status">
          Approved{approve.data.excluded ? `, ${approve.data.excluded} excluded` : ''}.
        </p>
      )}
      {cancel.isError && <ErrorMessage error={cancel.error} />}
      {cancel.isSuccess && (
        <p className="success" role="status">
          Cancelling: reservations are being released.
        </p>
      )}
    </section>
  );
}

function BankFile({ run }: { run: PayoutRun }) {
  const link = useBankFileLink(run.id);
  const upload = useUploadBankStatus(run.id);
  const [report, setReport] = useState('');
  if (!run.hasBankFile) return null;
  const readFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.currentTarget.files?.[0];
    if (file) setReport(await file.text());
  };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    upload.mutate(report);
  };
  return (
    <section aria-labelledby="bank-heading">
      <h2 id="bank-heading">Bank file</h2>
      <div className="row">
        <button type="button" className="secondary" onClick={() => link.mutate()} disabled={link.isPending}>
          Get bank file (pain.001)
        </button>
        {link.data && (
          <a href={link.data.url} download={link.data.fileName}>
            Download {link.data.fileName}
          </a>
        )}
      </div>
      {link.data && <p className="muted">The link works until {new Date(link.data.expiresAt).toLocaleTimeString()}.</p>}
      {link.isError && <ErrorMessage error={link.error} />}
      <form onSubmit={submit} className="narrow">
        <label>
          Bank status report
          <textarea name="report" rows={5} required value={report} onChange={(e) => setReport(e.target.value)} aria-describedby="report-hint" />
        </label>
        <span id="report-hint" className="hint">
          The bank’s pain.002 XML, or CSV lines <code>end_to_end_id,status,reason</code>. Uploading the same report again changes nothing.
        </span>
        <label>
          Or read the report from a file
          <input type="file" accept=".xml,.csv,.txt,text/xml,text/csv" onChange={(e) => void readFile(e)} />
        </label>
        <button type="submit" disabled={upload.isPending || !report.trim()}>
          Upload bank status
        </button>
      </form>
      {upload.isError && <ErrorMessage error={upload.error} />}
      {upload.data && (
        <div role="status">
          <p className="success">
            Settled {upload.data.settled}, returned {upload.data.returned}, already settled {upload.data.alreadySettled}.
          </p>
          {[...upload.data.conflicts.map((c) => `${c.payoutId}: ${c.message}`), ...upload.data.problems.map((p) => `${p.at}: ${p.message}`)].length > 0 && (
            <ul className="error">
              {upload.data.conflicts.map((c) => (
                <li key={c.payoutId}>
                  {c.payoutId}: {c.message}
                </li>
              ))}
              {upload.data.problems.map((p, i) => (
                <li key={`${p.at}-${i}`}>
                  {p.at}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

function SettleActions({ runId, item }: { runId: string; item: PayoutItem }) {
  const settle = useSettleItem(runId);
  const [reason, setReason] = useState('');
  const who = useUserProfile(item.creatorId).data?.username ?? item.creatorId.slice(0, 8);
  const settleable = item.status === 'submitted' || (item.status === 'reversing' && item.flagged);
  if (!settleable) return null;
  return (
    <div className="inline-form">
      <button type="button" className="small" onClick={() => settle.mutate({ itemId: item.id, outcome: 'paid' })} disabled={settle.isPending} aria-label={`Mark ${who}'s payout paid`}>
        Mark paid
      </button>
      <input value={reason} onChange={(e) => setReason(e.target.value)} aria-label={`Failure reason for ${who}'s payout`} placeholder="Failure reason" maxLength={500} />
      <button type="button" className="small danger" onClick={() => settle.mutate({ itemId: item.id, outcome: 'failed', reason: reason.trim() || undefined })} disabled={settle.isPending} aria-label={`Mark ${who}'s payout failed`}>
        Mark failed
      </button>
      {settle.isError && <ErrorMessage error={settle.error} />}
    </div>
  );
}

/** While a run awaits approval, each item can be ticked to leave its creator out (released back to available). */
function ExcludeToggle({ item, excluded, onToggle }: { item: PayoutItem; excluded: boolean; onToggle: (creatorId: string) => void }) {
  const who = useUserProfile(item.creatorId).data?.username ?? item.creatorId.slice(0, 8);
  return <input type="checkbox" checked={excluded} onChange={() => onToggle(item.creatorId)} aria-label={`Exclude ${who} from this run`} />;
}

function Items({ run, items, excluded, onToggleExcluded }: { run: PayoutRun; items: PayoutItem[]; excluded: ReadonlySet<string>; onToggleExcluded: (creatorId: string) => void }) {
  if (items.length === 0) return <p className="muted">{run.status === 'selecting' ? 'Selecting creators…' : 'No creators in this run.'}</p>;
  const excluding = run.status === 'awaiting_approval';
  return (
    <TableScroll label="Payout items">
      <table>
        <thead>
          <tr>
            {excluding && <th scope="col">Exclude</th>}
            <th scope="col">Creator</th>
            <th scope="col">Amount</th>
            <th scope="col">Method</th>
            <th scope="col">Status</th>
            <th scope="col">Failure reason</th>
            <th scope="col">End-to-end id</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} data-testid="payout-item">
              {excluding && (
                <td>
                  <ExcludeToggle item={item} excluded={excluded.has(item.creatorId)} onToggle={onToggleExcluded} />
                </td>
              )}
              <td>
                <UserName id={item.creatorId} />
              </td>
              <td className="amount">{formatAmount(item.amount, item.currency)}</td>
              <td>
                {item.method === 'bank_transfer' ? 'Bank transfer' : 'Stripe'}
                {item.destination && <span className="muted"> {item.destination}</span>}
              </td>
              <td>
                <span className="status-pill">{item.status}</span>
                {item.flagged && <span className="error"> overdue</span>}
              </td>
              <td>{item.failureReason ?? ''}</td>
              <td className="mono">{item.endToEndId ?? ''}</td>
              <td>
                <SettleActions runId={run.id} item={item} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function Run({ id }: { id: string }) {
  const query = usePayoutRun(id);
  const [excluded, setExcluded] = useState<ReadonlySet<string>>(new Set());
  const toggleExcluded = (creatorId: string) =>
    setExcluded((current) => {
      const next = new Set(current);
      if (!next.delete(creatorId)) next.add(creatorId);
      return next;
    });
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorMessage error={query.error} />;
  const { run, totals, items } = query.data;
  const statuses = Object.entries(totals.byStatus);
  const count = statuses.reduce((n, [, t]) => n + t.count, 0);
  const settled = statuses.filter(([s]) => ['paid', 'failed', 'returned', 'released'].includes(s)).reduce((n, [, t]) => n + t.count, 0);
  return (
    <>
      <dl className="facts">
        <dt>Phase</dt>
        <dd>
          <span className="status-pill" data-testid="run-phase">
            {phaseLabel(run.phase)}
          </span>
        </dd>
        <dt>Currency</dt>
        <dd>{run.currency}</dd>
        <dt>Minimum</dt>
        <dd>{formatAmount(run.minimumAmount, run.currency)}</dd>
        <dt>Started by</dt>
        <dd>
          <UserName id={run.startedBy} /> {when(run.createdAt)}
        </dd>
        <dt>Approved by</dt>
        <dd>
          {run.approvedBy ? (
            <>
              <UserName id={run.approvedBy} /> {when(run.approvedAt)}
            </>
          ) : run.approvalDeadline && run.status === 'awaiting_approval' ? (
            <>Not yet; expires {when(run.approvalDeadline)}</>
          ) : (
            '—'
          )}
        </dd>
        {run.cancelledBy && (
          <>
            <dt>Cancelled by</dt>
            <dd>
              <UserName id={run.cancelledBy} />
            </dd>
          </>
        )}
        <dt>Finished</dt>
        <dd>{when(run.finishedAt)}</dd>
      </dl>
      {count > 0 && (
        <div className="progress">
          <label htmlFor="run-progress">
            Settled {settled} of {count} items
          </label>
          <progress id="run-progress" max={count} value={settled} />
          <ul className="chips" aria-label="Totals by status">
            {statuses.map(([status, t]) => (
              <li key={status}>
                {status}: {t.count} ({formatAmount(t.amount, run.currency)})
              </li>
            ))}
          </ul>
        </div>
      )}
      <Approval run={run} excluded={excluded} />
      <BankFile run={run} />
      <h2>Items</h2>
      <Items run={run} items={items} excluded={excluded} onToggleExcluded={toggleExcluded} />
    </>
  );
}

export default function FinancePayoutRun() {
  const { id = '' } = useParams();
  return (
    <FinanceFrame title="Payout run">
      <p>
        <Link to={urls.financePayoutRuns()}>All payout runs</Link>
      </p>
      <Run id={id} />
    </FinanceFrame>
  );
}
