// The web app's page URLs (web/src/urls.ts has the same shapes): what `webUrl` fields in the
// API point at, so share buttons and notifications link to the page that shows the thing.

export interface WebLinks {
  video(id: string): string;
  stream(id: string): string;
  channel(username: string): string;
  /** The page that spends an emailed verification token. */
  verifyEmail(token: string): string;
  /** The page that spends an emailed password reset token. */
  resetPassword(token: string): string;
  notifications(): string;
  /** The notification settings on the notifications page: where notification mail unsubscribes. */
  notificationSettings(): string;
  subscribers(): string;
  subscriptions(): string;
  /** Two-factor sign-in and recovery codes: where a security alert leads. */
  accountSecurity(): string;
}

/** `base` is PUBLIC_WEB_URL without a trailing slash. */
export function webLinks(base: string): WebLinks {
  return {
    video: (id) => `${base}/videos/${id}`,
    stream: (id) => `${base}/streams/${id}`,
    channel: (username) => `${base}/@${username}`,
    verifyEmail: (token) => `${base}/verify-email?token=${encodeURIComponent(token)}`,
    resetPassword: (token) => `${base}/reset-password?token=${encodeURIComponent(token)}`,
    notifications: () => `${base}/notifications`,
    notificationSettings: () => `${base}/notifications#settings`,
    subscribers: () => `${base}/dashboard/subscribers`,
    subscriptions: () => `${base}/subscriptions`,
    accountSecurity: () => `${base}/account/security`,
  };
}
