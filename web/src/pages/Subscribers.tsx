// /dashboard/subscribers — a creator's subscribers: how many per tier, this month's churn
// (started, ended, lapsed), the list with months and badge ("Load more"), and the tiers'
// names (prices are the platform's).
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useRenameTiers, useSubscriberList, useSubscriberStats, useTiers } from '../features/subscriptions/api.ts';
import { formatDate, perMonth } from '../features/subscriptions/format.ts';
import { SubscriberBadge } from '../features/subscriptions/SubscriberBadge.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';
import '../subscriptions.css';

const statusText: Record<string, string> = { active: 'Active', past_due: 'Payment failed (in grace)' };

const monthName = (month: string) => new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${month}-01T00:00:00Z`));

function Stats() {
  const stats = useSubscriberStats();
  if (stats.isPending) return <Loading />;
  if (stats.isError) {
    if (stats.error instanceof ApiError && stats.error.status === 403)
      return <p>You have no subscribers yet: going live or uploading a video makes you a creator whom viewers can subscribe to.</p>;
    return <ErrorMessage error={stats.error} />;
  }
  const s = stats.data;
  return (
    <>
      <p className="balance" data-testid="subscriber-total">
        Subscribers: <strong>{s.total}</strong>
      </p>
      <dl className="tier-counts">
        {s.tiers.map((t) => (
          <div key={t.tier} data-testid={`tier-${t.tier}-count`}>
            <dt>{t.name}</dt>
            <dd>{t.count}</dd>
          </div>
        ))}
      </dl>
      <h2>This month ({monthName(s.churn.month)})</h2>
      <dl className="tier-counts" data-testid="churn">
        <div>
          <dt>Started</dt>
          <dd>{s.churn.started}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{s.churn.ended}</dd>
        </div>
        <div>
          <dt>Lapsed (not paid)</dt>
          <dd>{s.churn.lapsed}</dd>
        </div>
      </dl>
    </>
  );
}

function SubscriberList() {
  const list = useSubscriberList();
  if (list.isPending) return <Loading />;
  if (list.isError) return list.error instanceof ApiError && list.error.status === 403 ? null : <ErrorMessage error={list.error} />;
  const items = list.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <p className="muted">Nobody is subscribed yet.</p>;
  return (
    <>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Your subscribers, with their tier, months subscribed and status</caption>
          <thead>
            <tr>
              <th scope="col">Subscriber</th>
              <th scope="col">Badge</th>
              <th scope="col">Months</th>
              <th scope="col">Status</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.user.id}>
                <td>
                  <Link to={urls.channel(s.user.username)}>{s.user.displayName || s.user.username}</Link>
                  {s.gifted && <span className="muted"> (gifted)</span>}
                </td>
                <td>
                  <SubscriberBadge badge={{ tier: s.tier, months: s.monthsSubscribed }} />
                </td>
                <td>{s.monthsSubscribed}</td>
                <td>{statusText[s.status] ?? s.status}</td>
                <td>
                  <time dateTime={s.since}>{formatDate(s.since)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.hasNextPage && (
        <button type="button" className="secondary" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      )}
    </>
  );
}

function TierNames({ channelId }: { channelId: string }) {
  const tiers = useTiers(channelId);
  const rename = useRenameTiers(channelId);
  const [saved, setSaved] = useState(false);
  if (tiers.isPending) return <Loading />;
  if (tiers.isError) return <ErrorMessage error={tiers.error} />;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSaved(false);
    rename.mutate(
      tiers.data.map((t) => ({ tier: t.tier, name: String(form.get(`tier-${t.tier}`)).trim() })),
      { onSuccess: () => setSaved(true) },
    );
  };
  return (
    <form onSubmit={submit} className="narrow" aria-labelledby="tier-names-heading">
      <h2 id="tier-names-heading">Tier names</h2>
      <p className="hint">What viewers see when they subscribe; the prices are set by the platform.</p>
      {tiers.data.map((t) => (
        <label key={t.tier}>
          Name of tier {t.tier} ({perMonth(t)})
          <input name={`tier-${t.tier}`} defaultValue={t.name} required maxLength={40} />
        </label>
      ))}
      {rename.isError && <ErrorMessage error={rename.error} />}
      {saved && (
        <p role="status" className="success">
          Tier names saved.
        </p>
      )}
      <button type="submit" disabled={rename.isPending}>
        Save tier names
      </button>
    </form>
  );
}

function SubscribersContent() {
  const me = useSession()!.user;
  return (
    <>
      <h1>Subscribers</h1>
      <p>
        <Link to="/dashboard">Back to the dashboard</Link> · <Link to={urls.earnings()}>Earnings</Link>
      </p>
      <Stats />
      <h2>Your subscribers</h2>
      <SubscriberList />
      <TierNames channelId={me.id} />
    </>
  );
}

export default function Subscribers() {
  return (
    <RequireSignIn>
      <SubscribersContent />
    </RequireSignIn>
  );
}
