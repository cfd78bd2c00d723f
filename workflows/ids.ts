// Readable, deterministic workflow ids (DESIGN.md §4: `stream/<id>`, `video/<id>/transcode`,
// `fanout/<eventId>` …): an operator finds a process in the Temporal UI by the thing it is
// about, and starting the same thing twice is idempotent. Add each new id builder here.

export const workflowIds = {
  ping: (pingId: string) => `ping/${pingId}`,
  fanout: (eventId: string) => `fanout/${eventId}`,
  stream: (streamId: string) => `stream/${streamId}`,
  transcode: (videoId: string) => `video/${videoId}/transcode`,
  videoRemoval: (videoId: string) => `video/${videoId}/remove`,
  videoPoster: (videoId: string) => `video/${videoId}/poster`,
  /** One per provider event, so a redelivered or replayed webhook starts nothing new. */
  payoutRun: (runId: string) => `payout-run/${runId}`,
  /** `caseId` is `<targetType>-<targetId>-<n>` (workflows/plans/moderation.ts caseIdOf). */
  moderation: (caseId: string) => `moderation/${caseId}`,
  /** One per request for a message (a registration, a reset request, a resend). */
  email: (purpose: string, requestId: string) => `email/${purpose}/${requestId}`,
  /** One per notification event: mails the event's notifications to those who get them instantly. */
  notificationEmail: (eventId: string) => `notification-email/${eventId}`,
  paymentEvent: (provider: string, eventId: string) => `payment-event/${provider}/${eventId}`,
  /** One per subscription for its whole life (continue-as-new each period keeps the history small). */
  subscription: (subscriptionId: string) => `subscription/${subscriptionId}`,
  /** One per gift of subscriptions: gives them once its payment succeeded. */
  subscriptionGift: (giftId: string) => `subscription-gift/${giftId}`,
} as const;
