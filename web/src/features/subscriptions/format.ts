// A subscription's state in words (README "Subscriptions": states), shared by the channel
// page's button and the subscriptions page.
import { formatMoney } from '../money/format.ts';
import type { Subscription, SubscriptionTier } from './types.ts';

/** A date as a person reads it ("Dec 2, 2026"). */
export const formatDate = (iso: string, locale?: string) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso));

export const perMonth = (t: Pick<SubscriptionTier, 'price' | 'currency'>) => `${formatMoney(t.price, t.currency)} a month`;

export const channelName = (s: Subscription) => s.channel.displayName || s.channel.username;

const endedText: Record<string, string> = {
  canceled: 'Ended on',
  lapsed: 'Lapsed (the payment did not go through) on',
  gift_expired: 'The gifted month ended on',
  incomplete_expired: 'Never paid: ended on',
  provider_deleted: 'Ended by the payment provider on',
  channel_closed: 'The channel closed on',
};

/** Where the subscription stands: what the subscriber has and until when. */
export function stateText(s: Subscription): string {
  const until = s.currentPeriodEnd ? formatDate(s.currentPeriodEnd) : undefined;
  switch (s.status) {
    case 'incomplete':
      return 'Waiting for the payment to be confirmed…';
    case 'active':
      if (s.gift) return `Gifted by ${s.gift.giver.username}${until ? `, ends on ${until}` : ''}`;
      if (s.cancelAtPeriodEnd || !s.renews) return until ? `Cancelled: you keep it until ${until}, then it ends` : 'Cancelled: ends at the end of this period';
      return until ? `Active, renews on ${until}` : 'Active';
    case 'past_due':
      return `Payment failed${s.pastDueSince ? ` on ${formatDate(s.pastDueSince)}` : ''}: Stripe tries again. You keep your perks for a few days; if no payment goes through, the subscription lapses.`;
    case 'lapsed':
    case 'ended': {
      const when = s.endedAt ? formatDate(s.endedAt) : undefined;
      const lead = (s.status === 'lapsed' ? endedText.lapsed : endedText[s.endedReason ?? 'canceled']) ?? 'Ended on';
      return when ? `${lead} ${when}` : lead.replace(/ on$/, '');
    }
  }
}
