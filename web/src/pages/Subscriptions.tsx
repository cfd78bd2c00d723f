// /subscriptions — your channel subscriptions: the current ones with their state (renews on,
// ends on, a failed payment), cancel at the period's end (confirmed first; access stays until
// then), resume before it ends, change tier; and the past ones.
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { hasPerks, isCurrent, useChangeSubscription, useMySubscriptions, useTiers, type Subscription, type Tier } from '../features/subscriptions/api.ts';
import { monthsText } from '../features/subscriptions/frames.ts';
import { channelName, formatDate, perMonth, stateText } from '../features/subscriptions/format.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';
import '../subscriptions.css';

function ChangeTier({ subscription: s }: { subscription: Subscription }) {
  const tiers = useTiers(s.channel.id);
  const change = useChangeSubscription(s.id);
  const id = useId();
  const others = tiers.data?.filter((t) => t.tier !== s.tier) ?? [];
  const [done, setDone] = useState<string>();
  if (others.length === 0) return null;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const tier = Number(new FormData(e.currentTarget).get('tier')) as Tier;
    setDone(undefined);
    change.mutate({ action: 'change-tier', tier }, { onSuccess: (next) => setDone(`Changed to ${next.tierName}: its price applies from your next payment.`) });
  };
  return (
    <>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-tier`}>New tier</label>
          <select id={`${id}-tier`} name="tier">
            {others.map((t) => (
              <option key={t.tier} value={t.tier}>
                {t.name} ({perMonth(t)})
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="secondary" disabled={change.isPending}>
          Change tier
        </button>
      </form>
      {change.isError && <ErrorMessage error={change.error} />}
      {done && (
        <p role="status" className="success">
          {done}
        </p>
      )}
    </>
  );
}

function Actions({ subscription: s }: { subscription: Subscription }) {
  const change = useChangeSubscription(s.id);
  const [confirming, setConfirming] = useState(false);
  const id = useId();
  // Gifts do not renew: nothing to cancel. An unpaid first invoice has no period to keep.
  if (!s.renews || !hasPerks(s)) return null;
  if (s.cancelAtPeriodEnd)
    return (
      <div className="row">
        <button type="button" disabled={change.isPending} onClick={() => change.mutate({ action: 'resume' })}>
          Resume subscription
        </button>
        {change.isError && <ErrorMessage error={change.error} />}
      </div>
    );
  return (
    <>
      {confirming ? (
        <div role="group" aria-labelledby={`${id}-confirm`} className="status-panel">
          <p id={`${id}-confirm`}>
            Cancel your {s.tierName} subscription to {channelName(s)}? Nothing more is charged; you keep it
            {s.currentPeriodEnd ? ` until ${formatDate(s.currentPeriodEnd)}` : ' to the end of this period'}, and you can resume it until then.
          </p>
          <div className="row">
            <button type="button" className="danger" disabled={change.isPending} onClick={() => change.mutate({ action: 'cancel' }, { onSuccess: () => setConfirming(false) })}>
              Yes, cancel at the end of the period
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <div className="row">
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Cancel subscription
          </button>
        </div>
      )}
      {change.isError && <ErrorMessage error={change.error} />}
      {s.status === 'active' && !confirming && <ChangeTier subscription={s} />}
    </>
  );
}

function SubscriptionItem({ subscription: s }: { subscription: Subscription }) {
  const id = useId();
  return (
    <li aria-labelledby={`${id}-name`} data-testid="subscription">
      <h3 id={`${id}-name`}>
        <Link to={urls.channel(s.channel.username)}>{channelName(s)}</Link>
      </h3>
      <p>
        {s.tierName}, {perMonth(s)}
        {s.monthsSubscribed > 0 && ` · subscribed ${monthsText(s.monthsSubscribed)}`}
      </p>
      <p className={s.status === 'past_due' ? 'error' : undefined} data-testid="subscription-state">
        {stateText(s)}
      </p>
      {isCurrent(s) && <Actions subscription={s} />}
    </li>
  );
}

function List({ status, heading, empty }: { status: 'current' | 'all'; heading: string; empty: string }) {
  const list = useMySubscriptions(status);
  const id = useId();
  const items = list.data?.pages.flatMap((p) => p.items).filter((s) => (status === 'current' ? isCurrent(s) : !isCurrent(s))) ?? [];
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{heading}</h2>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorMessage error={list.error} />
      ) : (
        <>
          {items.length === 0 ? (
            <p className="muted">{empty}</p>
          ) : (
            <ul className="subscriptions">
              {items.map((s) => (
                <SubscriptionItem key={s.id} subscription={s} />
              ))}
            </ul>
          )}
          {list.hasNextPage && (
            <button type="button" className="secondary" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
              Load more
            </button>
          )}
        </>
      )}
    </section>
  );
}

export default function Subscriptions() {
  return (
    <RequireSignIn>
      <h1>Your subscriptions</h1>
      <p>Subscribing to a channel gives you its subscriber badge in chat, its subscriber-only chat and videos. Subscribe on a channel’s page.</p>
      <List status="current" heading="Current" empty="You are not subscribed to any channel." />
      <List status="all" heading="Past" empty="No past subscriptions." />
    </RequireSignIn>
  );
}
