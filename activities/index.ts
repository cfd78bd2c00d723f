import type { Db } from '../lib/db.ts';
import type { Mongo } from '../lib/mongo.ts';
import type { Nats } from '../lib/nats.ts';
import type { Storage } from '../lib/s3.ts';
import { createAnalyticsActivities } from './analytics.ts';
import { createChatActivities } from './chat.ts';
import { createEarningsActivities } from './earnings.ts';
import { createEmailActivities, type EmailDeps } from './email.ts';
import { createMaintenanceActivities } from './maintenance.ts';
import { createMediaActivities } from './media.ts';
import { createModerationActivities } from './moderation.ts';
import { createNotificationActivities } from './notifications.ts';
import { createNotificationEmailActivities } from './notification-email.ts';
import { createPaymentActivities, type PaymentEventHandlers } from './payments.ts';
import { registerPayoutEventHandlers } from './payout-events.ts';
import { createPayoutActivities } from './payouts.ts';
import type { PayoutServices } from '../lib/payouts/services.ts';
import { createStreamActivities } from './streams.ts';
import { createSubscriptionActivities, type SubscriptionActivityDeps } from './subscriptions.ts';
import { createSubscriptionGiftActivities } from './subscription-gifts.ts';
import { createSystemActivities } from './system.ts';
import { createVideoActivities } from './videos.ts';
import { createTrendingActivities } from './trending.ts';
import { createViewActivities } from './views.ts';

export interface ActivityDeps {
  db: Db;
  mongo: Mongo;
  nats: Nats;
  storage: Storage;
  rtmpControlUrl: string;
  /** Replaces the registry of activities/payments.ts (tests inject their own handlers). */
  stripeEventHandlers?: PaymentEventHandlers;
  payouts: PayoutServices;
  /** SMTP and what messages link to (activities/email.ts mailDeps). */
  mail: Omit<EmailDeps, 'db'>;
  /** Money rules and the creator's share for subscription periods (subscriptionActivityDeps). */
  subscriptions: Pick<SubscriptionActivityDeps, 'money' | 'creatorShareBps'>;
}

// The registry's handlers for payout events (Stripe Connect), registered once per process.
registerPayoutEventHandlers();

/** Activities for the `streamhub` task queue; tests pass real or fault-injecting deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSystemActivities(deps),
    ...createNotificationActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createChatActivities(deps),
    ...createVideoActivities(deps),
    ...createViewActivities(deps),
    ...createTrendingActivities(deps),
    ...createAnalyticsActivities(deps),
    ...createStreamActivities(deps),
    ...createModerationActivities(deps),
    ...createEarningsActivities(deps),
    ...createEmailActivities({ db: deps.db, ...deps.mail }),
    ...createNotificationEmailActivities({ db: deps.db, from: deps.mail.from, web: deps.mail.web }),
    ...createPaymentActivities(deps),
    ...createSubscriptionActivities({ db: deps.db, nats: deps.nats, ...deps.subscriptions }),
    ...createSubscriptionGiftActivities(deps),
    ...createPayoutActivities({ db: deps.db, storage: deps.storage, nats: deps.nats, ...deps.payouts }),
  };
}

export { createMediaActivities };
export type PlatformActivities = ReturnType<typeof createActivities>;
export type { MediaActivities } from './media.ts';
