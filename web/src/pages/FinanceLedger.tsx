// /finance/ledger — the books at a glance: the trial balance (every currency's debits equal
// its credits), the accounts by code (filtered by currency or kind), and the journal entries,
// newest first, each with its postings. Lists load more by keyset cursor.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { FinanceFrame, TableScroll } from '../features/finance/FinanceFrame.tsx';
import { formatAmount, useAccounts, useEntries, useTrialBalance } from '../features/finance/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function TrialBalance() {
  const balance = useTrialBalance();
  if (balance.isPending) return <Loading />;
  if (balance.isError) return <ErrorMessage error={balance.error} />;
  const { balanced, currencies } = balance.data;
  return (
    <>
      <p className={balanced ? 'success' : 'error'} data-testid="books-status">
        {balanced ? 'The books balance: every currency’s debits equal its credits.' : 'The books do not balance.'}
      </p>
      {currencies.length === 0 ? (
        <p className="muted">Nothing has been booked yet.</p>
      ) : (
        <TableScroll label="Trial balance">
          <table>
            <thead>
              <tr>
                <th scope="col">Currency</th>
                <th scope="col">Debits</th>
                <th scope="col">Credits</th>
                <th scope="col">Difference</th>
              </tr>
            </thead>
            <tbody>
              {currencies.map((c) => (
                <tr key={c.currency} data-testid="trial-balance-row">
                  <th scope="row">{c.currency}</th>
                  <td className="amount">{formatAmount(c.debits, c.currency)}</td>
                  <td className="amount">{formatAmount(c.credits, c.currency)}</td>
                  <td className={`amount ${c.balanced ? '' : 'error'}`}>{formatAmount(c.difference, c.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </>
  );
}

function Accounts() {
  const [filter, setFilter] = useState<{ currency?: string }>({});
  const accounts = useAccounts(filter);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const currency = String(new FormData(e.currentTarget).get('currency') ?? '').trim().toUpperCase();
    setFilter(currency ? { currency } : {});
  };
  const rows = accounts.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <form onSubmit={submit} className="inline-form">
        <label>
          Currency
          <input name="currency" pattern="[A-Za-z]{3,8}" maxLength={8} placeholder="all" />
        </label>
        <button type="submit" className="secondary">
          Show accounts
        </button>
      </form>
      {accounts.isPending ? (
        <Loading />
      ) : accounts.isError ? (
        <ErrorMessage error={accounts.error} />
      ) : rows.length === 0 ? (
        <p className="muted">No accounts.</p>
      ) : (
        <TableScroll label="Accounts">
          <table>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Kind</th>
                <th scope="col">Balance</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td className="mono">
                    <Link to={urls.financeAccount(a.id)}>{a.code}</Link>
                  </td>
                  <td>{a.kind.replace(/_/g, ' ')}</td>
                  <td className="amount">{formatAmount(a.balance, a.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {accounts.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void accounts.fetchNextPage()} disabled={accounts.isFetchingNextPage}>
          Load more accounts
        </button>
      )}
    </>
  );
}

function Entries() {
  const entries = useEntries();
  if (entries.isPending) return <Loading />;
  if (entries.isError) return <ErrorMessage error={entries.error} />;
  const rows = entries.data.pages.flatMap((p) => p.data);
  if (rows.length === 0) return <p className="muted">No entries yet.</p>;
  return (
    <>
      <ul className="plain entries">
        {rows.map((e) => (
          <li key={e.id}>
            <p>
              <strong>{e.kind}</strong> <time dateTime={e.effectiveAt}>{new Date(e.effectiveAt).toLocaleString()}</time>
              {e.description && <span className="muted"> — {e.description}</span>}
              {e.reverses && <span className="muted"> (reverses an earlier entry)</span>}
            </p>
            <TableScroll label={`Postings of ${e.kind} entry ${e.id.slice(0, 8)}`}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Debit</th>
                    <th scope="col">Credit</th>
                  </tr>
                </thead>
                <tbody>
                  {e.postings.map((p, i) => (
                    <tr key={`${p.accountId}-${i}`}>
                      <td className="mono">
                        <Link to={urls.financeAccount(p.accountId)}>{p.accountCode}</Link>
                      </td>
                      <td className="amount">{p.side === 'debit' ? formatAmount(p.amount, p.currency) : ''}</td>
                      <td className="amount">{p.side === 'credit' ? formatAmount(p.amount, p.currency) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          </li>
        ))}
      </ul>
      {entries.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          Load more entries
        </button>
      )}
    </>
  );
}

export default function FinanceLedger() {
  return (
    <FinanceFrame title="Ledger">
      <h2>Trial balance</h2>
      <TrialBalance />
      <h2>Accounts</h2>
      <Accounts />
      <h2>Entries</h2>
      <Entries />
    </FinanceFrame>
  );
}
