// /finance/payout-runs — finance staff list payout runs (newest first, followed while any is
// open) and start one in a currency, optionally with its own minimum amount.
import { type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError } from '../api/client.ts';
import { FinanceFrame, TableScroll } from '../features/finance/FinanceFrame.tsx';
import { formatAmount, phaseLabel, usePayoutRuns, useStartRun } from '../features/finance/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function StartRun() {
  const start = useStartRun();
  const navigate = useNavigate();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const currency = String(data.get('currency')).trim().toUpperCase();
    const minimum = String(data.get('minimum') ?? '').trim();
    // The form takes major units (50.00); the API takes minor units of two-decimal currencies.
    const minimumAmount = minimum ? Math.round(Number(minimum) * 100) : undefined;
    start.mutate({ currency, ...(minimumAmount ? { minimumAmount } : {}) }, { onSuccess: (run) => navigate(urls.financePayoutRun(run.id)) });
  };
  const openRunId = start.error instanceof ApiError ? (start.error.details as { runId?: string } | undefined)?.runId : undefined;
  return (
    <form onSubmit={submit} className="narrow">
      <label>
        Currency
        <input name="currency" required pattern="[A-Za-z]{3}" maxLength={3} defaultValue="USD" aria-describedby="currency-hint" />
      </label>
      <span id="currency-hint" className="hint">
        ISO 4217 code, e.g. USD. One open run per currency.
      </span>
      <label>
        Minimum amount (optional)
        <input name="minimum" type="number" min="0.01" step="0.01" inputMode="decimal" aria-describedby="minimum-hint" />
      </label>
      <span id="minimum-hint" className="hint">
        Creators with less available than this are left for a later run; empty uses the platform default.
      </span>
      <button type="submit" disabled={start.isPending}>
        Start payout run
      </button>
      {start.isError && <ErrorMessage error={start.error} />}
      {openRunId && <Link to={urls.financePayoutRun(openRunId)}>Open the run that is still open</Link>}
    </form>
  );
}

function Runs() {
  const runs = usePayoutRuns();
  if (runs.isPending) return <Loading />;
  if (runs.isError) return <ErrorMessage error={runs.error} />;
  if (runs.data.length === 0) return <p className="muted">No payout runs yet.</p>;
  return (
    <TableScroll label="Payout runs">
      <table>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Currency</th>
            <th scope="col">Minimum</th>
            <th scope="col">Phase</th>
            <th scope="col">Bank file</th>
          </tr>
        </thead>
        <tbody>
          {runs.data.map((run) => (
            <tr key={run.id}>
              <td>
                <Link to={urls.financePayoutRun(run.id)}>
                  <time dateTime={run.createdAt}>{new Date(run.createdAt).toLocaleString()}</time>
                </Link>
              </td>
              <td>{run.currency}</td>
              <td className="amount">{formatAmount(run.minimumAmount, run.currency)}</td>
              <td>
                <span className="status-pill">{phaseLabel(run.phase)}</span>
              </td>
              <td>{run.hasBankFile ? 'Yes' : 'No'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

export default function FinancePayoutRuns() {
  return (
    <FinanceFrame title="Payout runs">
      <h2>Start a run</h2>
      <StartRun />
      <h2>Runs</h2>
      <Runs />
    </FinanceFrame>
  );
}
