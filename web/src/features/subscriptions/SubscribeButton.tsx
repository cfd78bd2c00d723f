// Subscribe to a channel: the tier picker (names and monthly prices from the channel's tiers)
// and your subscription's state (tier, renews or ends on, a failed payment). Subscribing starts
// the subscription through the API and shows it waiting, re-read every 2 s until Stripe's
// webhook makes it active: the page confirms no card (Stripe.js is not in the app).
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useSession } from '../../api/session.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import { urls } from '../../urls.ts';
import { hasPerks, isCurrent, useMySubscription, useSubscribe, useTiers, type Subscription, type Tier } from './api.ts';
import { perMonth, stateText } from './format.ts';
import '../../subscriptions.css';

function Status({ subscription: s }: { subscription: Subscription }) {
  const lead = s.status === 'incomplete' ? `Subscribing to ${s.tierName} (${perMonth(s)}): ` : isCurrent(s) ? `Subscribed: ${s.tierName} (${perMonth(s)}). ` : `Your ${s.tierName} subscription: `;
  return (
    <p role="status" data-testid="subscription-status" className={s.status === 'past_due' ? 'error' : s.status === 'active' ? 'success' : undefined}>
      {lead}
      {stateText(s)}
      {isCurrent(s) && (
        <>
          {' '}
          <Link to={urls.subscriptions()}>Manage your subscriptions</Link>
        </>
      )}
    </p>
  );
}

function TierPicker({ channelId }: { channelId: string }) {
  const tiers = useTiers(channelId);
  const subscribe = useSubscribe(channelId);
  const current = useMySubscription(channelId);
  const [open, setOpen] = useState(false);
  const [tier, setTier] = useState<Tier>(1);
  const id = useId();
  const chosen = tiers.data?.find((t) => t.tier === tier);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    subscribe.mutate(tier, {
      onSuccess: () => setOpen(false),
      // One is current already (another tab started it): show it.
      onError: (error) => error instanceof ApiError && error.status === 409 && void current.refetch(),
    });
  };
  return (
    <>
      <button type="button" aria-expanded={open} aria-controls={`${id}-form`} onClick={() => setOpen(!open)}>
        Subscribe
      </button>
      {open && (
        <form id={`${id}-form`} className="subscribe-form" onSubmit={submit}>
          {tiers.isError ? (
            <ErrorMessage error={tiers.error} />
          ) : (
            <fieldset>
              <legend>Choose a tier</legend>
              {tiers.data?.map((t) => (
                <label key={t.tier} className="inline">
                  <input type="radio" name="tier" value={t.tier} checked={tier === t.tier} onChange={() => setTier(t.tier)} />
                  {t.name}: {perMonth(t)}
                </label>
              ))}
            </fieldset>
          )}
          <p className="hint">Paid by card through Stripe every month; it starts once Stripe confirms the payment. Cancel any time: it then runs to the end of the paid month.</p>
          <button type="submit" disabled={!chosen || subscribe.isPending}>
            {chosen ? `Subscribe for ${perMonth(chosen)}` : 'Subscribe'}
          </button>
        </form>
      )}
      {subscribe.isError && !(subscribe.error instanceof ApiError && subscribe.error.status === 409) && <ErrorMessage error={subscribe.error} />}
    </>
  );
}

function Subscribe({ channelId, onPerks }: { channelId: string; onPerks?: () => void }) {
  const current = useMySubscription(channelId);
  const status = current.data?.status;
  useEffect(() => {
    if (current.data && hasPerks(current.data)) onPerks?.();
  }, [status]); // eslint-disable-line react-hooks/exhaustive-deps
  if (current.isPending) return null;
  if (current.isError) return <ErrorMessage error={current.error} />;
  const s = current.data;
  return (
    <div className="subscribe" data-testid="subscribe">
      {s && <Status subscription={s} />}
      {(!s || !isCurrent(s)) && <TierPicker channelId={channelId} />}
    </div>
  );
}

/**
 * The channel's Subscribe button and your subscription's state; signed out, a way to sign in;
 * nothing on your own channel. `onPerks` runs once the subscription gives perks (a
 * subscriber-only video's page then reads the video again).
 */
export function SubscribeButton({ channelId, onPerks }: { channelId: string; onPerks?: () => void }) {
  const me = useSession()?.user;
  const { pathname } = useLocation();
  if (!me)
    return (
      <p>
        <Link to={urls.signIn(pathname)}>Sign in</Link> to subscribe.
      </p>
    );
  if (me.id === channelId) return null;
  return <Subscribe channelId={channelId} onPerks={onPerks} />;
}

export default SubscribeButton;
