// /finance/payout-holds — creators on payout hold (no run selects them until every hold is
// lifted). Finance reads them; administrators place and lift the admins' hold (a moderation
// case's hold is lifted by its case), as the API allows.
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent } from 'react';
import { Link } from 'react-router';
import { useSession } from '../api/session.ts';
import { FinanceFrame, TableScroll } from '../features/finance/FinanceFrame.tsx';
import { useLiftHold, usePayoutHolds, usePlaceHold, userIdOf, type PayoutHold } from '../features/finance/api.ts';
import { profileQuery } from '../features/users/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

function HoldRow({ hold, canLift, onLift, lifting }: { hold: PayoutHold; canLift: boolean; onLift: () => void; lifting: boolean }) {
  const profile = useQuery({ ...profileQuery(hold.userId), staleTime: 5 * 60_000 });
  const name = profile.data?.username ?? hold.userId;
  return (
    <tr>
      <td>{profile.data ? <Link to={urls.channel(profile.data.username)}>{name}</Link> : <span className="mono">{name}</span>}</td>
      <td>{hold.reason}</td>
      <td>{hold.source === 'admin' ? 'an administrator' : `moderation (${hold.source})`}</td>
      <td>
        <time dateTime={hold.createdAt}>{new Date(hold.createdAt).toLocaleString()}</time>
      </td>
      <td>
        {canLift && hold.source === 'admin' && (
          <button type="button" className="small secondary" onClick={onLift} disabled={lifting} aria-label={`Lift the hold on ${name}`}>
            Lift
          </button>
        )}
      </td>
    </tr>
  );
}

function PlaceHold() {
  const place = usePlaceHold();
  const resolve = useMutation({ mutationFn: userIdOf });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const reason = String(data.get('reason')).trim();
    resolve.mutate(String(data.get('creator')).trim(), { onSuccess: (userId) => place.mutate({ userId, reason }, { onSuccess: () => form.reset() }) });
  };
  return (
    <form onSubmit={submit} className="narrow">
      <label>
        Creator (username or id)
        <input name="creator" required />
      </label>
      <label>
        Reason
        <textarea name="reason" required maxLength={500} rows={2} />
      </label>
      <button type="submit" disabled={place.isPending || resolve.isPending}>
        Place hold
      </button>
      {resolve.isError && <ErrorMessage error={resolve.error} />}
      {place.isError && <ErrorMessage error={place.error} />}
    </form>
  );
}

function Holds({ canLift }: { canLift: boolean }) {
  const holds = usePayoutHolds();
  const lift = useLiftHold();
  if (holds.isPending) return <Loading />;
  if (holds.isError) return <ErrorMessage error={holds.error} />;
  const rows: PayoutHold[] = holds.data.pages.flatMap((p) => p.data);
  if (rows.length === 0) return <p className="muted">No creator is on payout hold.</p>;
  return (
    <>
      <TableScroll label="Payout holds">
        <table>
          <thead>
            <tr>
              <th scope="col">Creator</th>
              <th scope="col">Reason</th>
              <th scope="col">Set by</th>
              <th scope="col">Since</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((h) => (
              <HoldRow key={h.id} hold={h} canLift={canLift} onLift={() => lift.mutate(h.userId)} lifting={lift.isPending} />
            ))}
          </tbody>
        </table>
      </TableScroll>
      {lift.isError && <ErrorMessage error={lift.error} />}
      {holds.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void holds.fetchNextPage()} disabled={holds.isFetchingNextPage}>
          Load more holds
        </button>
      )}
    </>
  );
}

export default function FinancePayoutHolds() {
  const isAdmin = useSession()?.user.role === 'admin';
  return (
    <FinanceFrame title="Payout holds">
      {isAdmin ? (
        <>
          <h2>Place a hold</h2>
          <PlaceHold />
        </>
      ) : (
        <p className="muted">Administrators place and lift holds; finance sees them here.</p>
      )}
      <h2>Creators on hold</h2>
      <Holds canLift={isAdmin} />
    </FinanceFrame>
  );
}
