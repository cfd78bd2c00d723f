import { monthsText } from './frames.ts';

/** A subscriber's badge: the tier and months at a glance, said in full to a screen reader. */
export function SubscriberBadge({ badge }: { badge: { tier: number; months: number } }) {
  const label = `Tier ${badge.tier} subscriber, ${monthsText(badge.months)}`;
  return (
    <span className={`sub-badge tier-${badge.tier}`} role="img" aria-label={label} title={label}>
      ★{badge.tier} · {badge.months} mo
    </span>
  );
}
