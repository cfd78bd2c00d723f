// /finance/ledger/accounts/:id — one ledger account: its balance and its postings, newest
// first, loading more by keyset cursor.
import { Link, useParams } from 'react-router';
import { FinanceFrame, TableScroll } from '../features/finance/FinanceFrame.tsx';
import { formatAmount, useAccount } from '../features/finance/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function Account({ id }: { id: string }) {
  const query = useAccount(id);
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorMessage error={query.error} />;
  const { account } = query.data.pages[0]!.data;
  const postings = query.data.pages.flatMap((p) => p.data.postings);
  const money = (n: number) => formatAmount(n, account.currency);
  return (
    <>
      <dl className="facts">
        <dt>Code</dt>
        <dd className="mono">{account.code}</dd>
        <dt>Kind</dt>
        <dd>{account.kind.replace(/_/g, ' ')}</dd>
        <dt>Balance</dt>
        <dd data-testid="account-balance">
          {money(account.balance)} <span className="muted">({account.normalSide} normal)</span>
        </dd>
        <dt>Debits posted</dt>
        <dd>{money(account.debitsPosted)}</dd>
        <dt>Credits posted</dt>
        <dd>{money(account.creditsPosted)}</dd>
      </dl>
      <h2>Postings</h2>
      {postings.length === 0 ? (
        <p className="muted">No postings.</p>
      ) : (
        <TableScroll label="Postings">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Entry</th>
                <th scope="col">Debit</th>
                <th scope="col">Credit</th>
                <th scope="col">Balance after</th>
              </tr>
            </thead>
            <tbody>
              {postings.map((p) => (
                <tr key={p.id} data-testid="posting">
                  <td>
                    <time dateTime={p.effectiveAt}>{new Date(p.effectiveAt).toLocaleString()}</time>
                  </td>
                  <td>
                    {p.entryKind} <span className="muted mono">{p.idempotencyKey}</span>
                  </td>
                  <td className="amount">{p.side === 'debit' ? money(p.amount) : ''}</td>
                  <td className="amount">{p.side === 'credit' ? money(p.amount) : ''}</td>
                  <td className="amount">{p.balanceAfter === null ? '' : money(p.balanceAfter)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {query.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          Load more postings
        </button>
      )}
    </>
  );
}

export default function FinanceAccount() {
  const { id = '' } = useParams();
  return (
    <FinanceFrame title="Ledger account">
      <p>
        <Link to={urls.financeLedger()}>Back to the ledger</Link>
      </p>
      <Account id={id} />
    </FinanceFrame>
  );
}
