// Notification mail (README, "Notification email"): each type's default email channel, what
// a notification says and where it leads, and the instant and digest messages. Pure.
import { escapeHtml, type RenderedEmail } from './emails.ts';
import { mandatoryNotificationTypes, notificationTypes, type EmailChannel, type NotificationType } from './schema.ts';
import type { WebLinks } from './web-urls.ts';

/**
 * Off for the high-volume and time-critical kinds (a live stream is stale by the time a mail
 * is read; comments can come by the hundred), the daily digest for the rest of the social
 * kinds, one mail each for money and for moderation outcomes, which people act on.
 */
export const defaultEmailChannels: Readonly<Record<NotificationType, EmailChannel>> = {
  stream_live: 'off',
  stream_scheduled: 'off',
  comment_received: 'off',
  video_published: 'daily',
  new_follower: 'daily',
  comment_reply: 'daily',
  tip_received: 'instant',
  payout_processed: 'instant',
  subscription_received: 'instant',
  subscription_gifted: 'instant',
  moderation_decision: 'instant',
  report_outcome: 'instant',
  moderation_escalation: 'instant',
  appeal_outcome: 'instant',
  appeal_message: 'instant',
  security_alert: 'instant',
};

/**
 * The channel a recipient gets for a type. Mandatory types are owed, like their in-app
 * delivery: always one mail each, whatever is stored.
 */
export function effectiveEmailChannel(type: NotificationType, stored: EmailChannel | null | undefined): EmailChannel {
  if (mandatoryNotificationTypes.includes(type)) return 'instant';
  return stored ?? defaultEmailChannels[type];
}

/** `(type, channel)` rows of the defaults, for SQL that resolves a recipient's setting (`coalesce(stored, default)`). */
export function defaultChannelRows(): { type: NotificationType; channel: EmailChannel; mandatory: boolean }[] {
  return notificationTypes.map((type) => ({ type, channel: defaultEmailChannels[type], mandatory: mandatoryNotificationTypes.includes(type) }));
}

export interface MailedNotification {
  id: string;
  type: NotificationType;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** What each security alert says (web/src/features/notifications/api.ts says the same in the app). */
const securityAlertText: Record<string, string> = {
  two_factor_enabled: 'Two-factor sign-in was turned on; other devices were signed out',
  two_factor_disabled: 'Two-factor sign-in was turned off',
  recovery_code_used: 'A recovery code was used to sign in',
  recovery_codes_regenerated: 'New recovery codes were made; the old ones no longer work',
};

/** What a notification says and the page it leads to (the web app's describeNotification says the same). */
export function describeForMail(n: MailedNotification, web: WebLinks): { text: string; url: string } {
  const title = typeof n.payload.title === 'string' ? n.payload.title : undefined;
  switch (n.type) {
    case 'stream_live':
      return { text: title ? `Live now: ${title}` : 'A channel you follow is live', url: web.stream(n.entityId) };
    case 'stream_scheduled':
      return { text: title ? `Starting soon: ${title}` : 'A stream you follow starts soon', url: web.stream(n.entityId) };
    case 'video_published':
      return { text: title ? `New video: ${title}` : 'A new video was published', url: web.video(n.entityId) };
    case 'comment_received':
      return { text: title ? `New comment on ${title}` : 'A new comment on your video', url: web.video(n.entityId) };
    case 'comment_reply':
      return { text: title ? `A reply to your comment on ${title}` : 'A reply to your comment', url: web.video(n.entityId) };
    case 'new_follower':
      return { text: 'You have a new follower', url: web.notifications() };
    case 'tip_received':
      return { text: 'You received a tip', url: web.notifications() };
    case 'payout_processed':
      return { text: 'A payout was processed', url: web.notifications() };
    case 'subscription_received':
      return { text: 'You have a new subscriber', url: web.subscribers() };
    case 'subscription_gifted':
      return { text: 'You were gifted a subscription', url: web.subscriptions() };
    case 'security_alert':
      return { text: securityAlertText[String(n.payload.event)] ?? 'A change to your account’s security', url: web.accountSecurity() };
    default:
      return { text: `${n.type.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())}`, url: web.notifications() };
  }
}

interface Line {
  text: string;
  url: string;
}

function layout(subject: string, greeting: string, intro: string, lines: Line[], after: string[], why: string, unsubscribeUrl: string): RenderedEmail {
  const text = [
    greeting,
    '',
    intro,
    '',
    ...lines.map((l) => `- ${l.text}: ${l.url}`),
    '',
    ...after.flatMap((p) => [p, '']),
    why,
    `Change or turn off these emails: ${unsubscribeUrl}`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    `<p>${escapeHtml(greeting)}</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    '<ul>',
    ...lines.map((l) => `<li><a href="${escapeHtml(l.url)}">${escapeHtml(l.text)}</a></li>`),
    '</ul>',
    ...after.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p style="color: #555; font-size: 0.9em">${escapeHtml(why)} <a href="${escapeHtml(unsubscribeUrl)}">Change or turn off these emails</a>.</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** One notification, mailed as it happens. */
export function instantNotificationEmail(input: { username: string; notification: MailedNotification; web: WebLinks }): RenderedEmail {
  const line = describeForMail(input.notification, input.web);
  const mandatory = mandatoryNotificationTypes.includes(input.notification.type);
  return layout(
    `StreamHub: ${line.text}`,
    `Hi ${input.username},`,
    'There is something new on StreamHub:',
    [line],
    [],
    mandatory
      ? `${input.notification.type === 'security_alert' ? 'Security notices' : 'Notices about moderation'} are always mailed to a verified address.`
      : 'You get this email because this kind of notification is set to email you each time.',
    input.web.notificationSettings(),
  );
}

/** At most this many lines in a digest; the rest are counted and wait on the notifications page. */
export const DIGEST_MAX_LINES = 50;

/** Newest first, at most DIGEST_MAX_LINES lines, and how many more there were. */
export function digestLines(notifications: readonly MailedNotification[], web: WebLinks): { lines: Line[]; more: number } {
  const sorted = [...notifications].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  return { lines: sorted.slice(0, DIGEST_MAX_LINES).map((n) => describeForMail(n, web)), more: Math.max(0, sorted.length - DIGEST_MAX_LINES) };
}

/** One day's digest of a user's unread notifications of the types they set to `daily`. */
export function digestEmail(input: { username: string; notifications: readonly MailedNotification[]; web: WebLinks }): RenderedEmail {
  const { lines, more } = digestLines(input.notifications, input.web);
  const count = input.notifications.length;
  return layout(
    `StreamHub: your daily digest (${count} new notification${count === 1 ? '' : 's'})`,
    `Hi ${input.username},`,
    `Since your last digest you have ${count} unread notification${count === 1 ? '' : 's'}:`,
    lines,
    more ? [`And ${more} more: ${input.web.notifications()}`] : [],
    'You get this email because some kinds of notification are set to a daily digest.',
    input.web.notificationSettings(),
  );
}

/** The UTC day (YYYY-MM-DD) a digest run belongs to: its outbox key, so a rerun that day mails nothing. */
export function digestDay(runAt: Date): string {
  return runAt.toISOString().slice(0, 10);
}
