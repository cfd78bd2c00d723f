// Gift subscriptions in a live room: a tier and how many, paid like a tip (started through the
// API, followed until Stripe's webhook settles it), then handed to viewers of the room who are
// not subscribed yet, one month each; the gift's recipients are shown once it is distributed.
import { useId, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../layout/Status.tsx';
import { PaymentStatus } from '../money/PaymentStatus.tsx';
import { formatMoney } from '../money/format.ts';
import { useGiftSubscriptions, useSubscriptionGift, useTiers, type Tier } from './api.ts';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function GiftOutcome({ id }: { id: string }) {
  const gift = useSubscriptionGift(id);
  if (gift.isError) return <ErrorMessage error={gift.error} />;
  const g = gift.data;
  if (!g || g.status === 'pending' || g.status === 'paid')
    return (
      <p role="status" className="muted">
        Handing out the subscriptions…
      </p>
    );
  if (g.status === 'failed')
    return (
      <p role="alert" className="error">
        The gift was not paid, so nobody received it.
      </p>
    );
  const names = g.recipients.map((r) => r.user.username);
  const count = g.distributedCount ?? names.length;
  return (
    <p role="status" className="success" data-testid="gift-recipients">
      Given to {plural(count, 'viewer', 'viewers')}
      {names.length > 0 ? `: ${names.join(', ')}` : ''}.
    </p>
  );
}

export function GiftSubscriptionsForm({ channelId, streamId }: { channelId: string; streamId: string }) {
  const tiers = useTiers(channelId);
  const give = useGiftSubscriptions(channelId);
  const [started, setStarted] = useState<{ paymentId: string; giftId: string; what: string }>();
  const [paid, setPaid] = useState(false);
  const id = useId();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const tier = tiers.data?.find((t) => t.tier === (Number(form.get('tier')) as Tier));
    const quantity = Number(form.get('quantity'));
    if (!tier) return;
    setStarted(undefined);
    setPaid(false);
    give.mutate(
      { tier: tier.tier, quantity, streamId },
      { onSuccess: (data) => setStarted({ paymentId: data.payment.id, giftId: data.gift.id, what: `Your gift of ${plural(quantity, `${tier.name} subscription`, `${tier.name} subscriptions`)}` }) },
    );
  };
  return (
    <form onSubmit={submit} aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Gift subscriptions</h3>
      <p className="hint">One month each, for viewers in this room who are not subscribed yet, chosen at random.</p>
      {tiers.isError && <ErrorMessage error={tiers.error} />}
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-tier`}>Subscription tier</label>
          <select id={`${id}-tier`} name="tier" required>
            {tiers.data?.map((t) => (
              <option key={t.tier} value={t.tier}>
                {t.name} ({formatMoney(t.price, t.currency)} each)
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-quantity`}>Number of subscriptions</label>
          <input id={`${id}-quantity`} name="quantity" type="number" min={1} max={100} defaultValue={1} required inputMode="numeric" />
        </div>
      </div>
      {give.isError && <ErrorMessage error={give.error} />}
      {started && <PaymentStatus key={started.paymentId} id={started.paymentId} what={started.what} onSettled={(p) => setPaid(p.status === 'succeeded')} />}
      {started && paid && <GiftOutcome id={started.giftId} />}
      <button type="submit" disabled={give.isPending || !tiers.data}>
        Gift subscriptions
      </button>
    </form>
  );
}
