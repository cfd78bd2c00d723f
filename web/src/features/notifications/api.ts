// Notifications: the list (with the unread count in `meta`), marking read, settings. New ones
// arrive as `notification` frames on the tab's socket; the count is re-read from the API on
// each, so a frame lost on the way (pushes are at most once) is caught up on the next one.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type Notification = components['schemas']['Notification'];
export type NotificationSettings = components['schemas']['NotificationSettings'];
export type EmailChannel = NotificationSettings['stream_live']['email'];

async function listNotifications(unread: boolean, limit: number) {
  const { data, error, response } = await api.GET('/api/v1/notifications', { params: { query: { limit, ...(unread ? { unread: 'true' as const } : {}) } } });
  if (!data) {
    const body = error as { error?: { code?: string; message?: string } } | undefined;
    throw new ApiError(response.status, body?.error?.code ?? 'http_error', body?.error?.message ?? `Request failed (${response.status})`);
  }
  return { items: data.data, unreadCount: data.meta.unreadCount };
}

export const notificationsQuery = (limit = 50) =>
  queryOptions({ queryKey: ['notifications', 'list', limit], queryFn: () => listNotifications(false, limit) });

export const unreadQuery = () => queryOptions({ queryKey: ['notifications', 'unread'], queryFn: () => listNotifications(true, 5) });

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (which: { ids: string[] } | { all: true }) => {
      const { error, response } = await api.POST('/api/v1/notifications/read', { body: which });
      if (error) throw new ApiError(response.status, 'http_error', `Request failed (${response.status})`);
    },
    onSettled: () => client.invalidateQueries({ queryKey: ['notifications'] }),
  });
}

export const settingsQuery = () =>
  queryOptions({
    queryKey: ['notifications', 'settings'],
    queryFn: async () => {
      const { data, response } = await api.GET('/api/v1/notifications/settings', {});
      if (!data) throw new ApiError(response.status, 'http_error', `Request failed (${response.status})`);
      return data.data;
    },
  });

export function useSaveSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: components['schemas']['NotificationSettingsChange']) => {
      const { data, response } = await api.PUT('/api/v1/notifications/settings', { body });
      if (!data) throw new ApiError(response.status, 'http_error', `Request failed (${response.status})`);
      return data.data;
    },
    onSuccess: (settings) => client.setQueryData(settingsQuery().queryKey, settings),
  });
}

export const useNotifications = () => useQuery(notificationsQuery());
export const useUnread = (enabled: boolean) => useQuery({ ...unreadQuery(), enabled });
export const useNotificationSettings = () => useQuery(settingsQuery());

const securityText: Record<string, string> = {
  two_factor_enabled: 'Two-factor sign-in was turned on; other devices were signed out',
  two_factor_disabled: 'Two-factor sign-in was turned off',
  recovery_code_used: 'A recovery code was used to sign in',
  recovery_codes_regenerated: 'New recovery codes were made; the old ones no longer work',
};

/** What a notification says and where it leads. */
export function describeNotification(n: Notification): { text: string; href?: string } {
  const title = typeof n.payload.title === 'string' ? n.payload.title : undefined;
  switch (n.type) {
    case 'stream_live':
      return { text: title ? `Live now: ${title}` : 'A channel you follow is live', href: `/streams/${n.entityId}` };
    case 'stream_scheduled':
      return { text: title ? `Starting soon: ${title}` : 'A stream you follow starts soon', href: `/streams/${n.entityId}` };
    case 'video_published':
      return { text: title ? `New video: ${title}` : 'A new video was published', href: `/videos/${n.entityId}` };
    case 'new_follower':
      return { text: 'You have a new follower' };
    case 'tip_received':
      return { text: 'You received a tip' };
    case 'subscription_received':
      return { text: 'You have a new subscriber', href: '/dashboard/subscribers' };
    case 'subscription_gifted':
      return { text: 'You were gifted a subscription', href: '/subscriptions' };
    case 'payout_processed':
      return { text: 'A payout was processed' };
    case 'comment_received':
      return { text: title ? `New comment on ${title}` : 'A new comment on your video', href: `/videos/${n.entityId}` };
    case 'comment_reply':
      return { text: title ? `A reply to your comment on ${title}` : 'A reply to your comment', href: `/videos/${n.entityId}` };
    case 'security_alert':
      return { text: securityText[String(n.payload.event)] ?? 'A change to your account\'s security', href: '/account/security' };
    default:
      return { text: n.type.replace(/_/g, ' ') };
  }
}

export const settingLabels: Record<keyof NotificationSettings, string> = {
  stream_live: 'A channel I follow goes live',
  stream_scheduled: 'A channel I follow schedules a stream',
  video_published: 'A channel I follow publishes a video',
  new_follower: 'Someone follows me',
  tip_received: 'I receive a tip',
  payout_processed: 'A payout of mine is processed',
  comment_received: 'Someone comments on my video',
  comment_reply: 'Someone replies to my comment',
  subscription_received: 'Someone subscribes to my channel',
  subscription_gifted: 'I receive a gifted subscription',
};

/** How each email channel reads in the settings' select. */
export const emailChannelLabels: Record<EmailChannel, string> = {
  off: 'Never',
  instant: 'Right away',
  daily: 'In the daily digest',
};
