// Channel subscriptions as viewers and creators use them: a channel's tiers, your subscription
// to it (followed until Stripe's webhook makes it active), your subscriptions with cancel,
// resume and change of tier, gifts of subscriptions in a live room, and a creator's
// subscribers (counts per tier, churn, the list) and tier names. Amounts are integer minor
// units; they become text only through `formatMoney`.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import { newIdempotencyKey } from '../money/api.ts';
import type { Subscription, SubscriptionStatus, Tier } from './types.ts';

export type { Person, Subscriber, SubscriberStats, Subscription, SubscriptionGift, SubscriptionGiftDetails, SubscriptionStatus, SubscriptionTier, Tier } from './types.ts';

/** A subscription that may still become or stay paid (at most one per channel). */
export const CURRENT_STATUSES: readonly SubscriptionStatus[] = ['incomplete', 'active', 'past_due'];
export const isCurrent = (s: Pick<Subscription, 'status'>) => CURRENT_STATUSES.includes(s.status);
/** Perks (badge, subscriber-only chat and videos) last while paid or in the grace period. */
export const hasPerks = (s: Pick<Subscription, 'status'>) => s.status === 'active' || s.status === 'past_due';

export const tiersQueryKey = (channel: string) => ['subscription-tiers', channel];
export const mySubscriptionKey = (channelId: string) => ['subscriptions', 'channel', channelId];

/** A channel's tiers with their names and monthly prices (public). */
export const useTiers = (channel: string) =>
  useQuery({
    queryKey: tiersQueryKey(channel),
    queryFn: () => unwrap(api.GET('/api/v1/channels/{id}/subscription-tiers', { params: { path: { id: channel } } })),
    staleTime: 60_000,
  });

/**
 * Your subscription to a channel (the current one, or the latest ended one; null if never),
 * re-read every 2 s while its first payment waits for Stripe (`incomplete`): the webhook
 * makes it active, not the page.
 */
export const useMySubscription = (channelId: string, enabled = true) =>
  useQuery({
    queryKey: mySubscriptionKey(channelId),
    queryFn: () => unwrap(api.GET('/api/v1/channels/{id}/subscriptions/me', { params: { path: { id: channelId } } })),
    enabled,
    refetchInterval: (query) => (query.state.data?.status === 'incomplete' ? 2000 : false),
  });

export function useSubscribe(channelId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (tier: Tier) =>
      unwrap(api.POST('/api/v1/channels/{id}/subscriptions', { params: { path: { id: channelId }, header: { 'idempotency-key': newIdempotencyKey() } }, body: { tier } })),
    onSuccess: (data) => client.setQueryData(mySubscriptionKey(channelId), data.subscription),
    onSettled: () => client.invalidateQueries({ queryKey: ['subscriptions'] }),
  });
}

/** Your subscriptions, newest first, one keyset page at a time. */
export const useMySubscriptions = (status: 'current' | 'all') =>
  useInfiniteQuery({
    queryKey: ['subscriptions', 'mine', status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET('/api/v1/users/me/subscriptions', { params: { query: { status, limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // While a first payment waits for Stripe the list is re-read, as the channel page does.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((s) => s.status === 'incomplete')) ? 2000 : false),
  });

type Change = { action: 'cancel' | 'resume' } | { action: 'change-tier'; tier: Tier };

/** Cancel at the period's end, resume before it, or change tier; every view of subscriptions is read again. */
export function useChangeSubscription(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (change: Change) => {
      const params = { path: { id } };
      if (change.action === 'change-tier') return unwrap(api.POST('/api/v1/users/me/subscriptions/{id}/change-tier', { params, body: { tier: change.tier } }));
      return unwrap(change.action === 'cancel' ? api.POST('/api/v1/users/me/subscriptions/{id}/cancel', { params }) : api.POST('/api/v1/users/me/subscriptions/{id}/resume', { params }));
    },
    onSuccess: (subscription) => client.setQueryData(mySubscriptionKey(subscription.channel.id), subscription),
    onSettled: () => client.invalidateQueries({ queryKey: ['subscriptions'] }),
  });
}

export const useSubscriberStats = () =>
  useQuery({ queryKey: ['subscribers', 'stats'], queryFn: () => unwrap(api.GET('/api/v1/creators/me/subscribers')), retry: false });

export const useSubscriberList = () =>
  useInfiniteQuery({
    queryKey: ['subscribers', 'list'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/creators/me/subscribers/list', { params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    retry: false,
  });

export function useRenameTiers(channelId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (tiers: { tier: Tier; name: string }[]) => unwrap(api.PUT('/api/v1/channels/me/subscription-tiers', { body: { tiers } })),
    onSuccess: (tiers) => client.setQueryData(tiersQueryKey(channelId), tiers),
    onSettled: () => client.invalidateQueries({ queryKey: ['subscribers'] }),
  });
}

/** One-month subscriptions for viewers of a live room, paid like a tip (followed until Stripe settles it). */
export function useGiftSubscriptions(channelId: string) {
  return useMutation({
    mutationFn: (body: { tier: Tier; quantity: number; streamId?: string }) =>
      unwrap(api.POST('/api/v1/channels/{id}/subscription-gifts', { params: { path: { id: channelId }, header: { 'idempotency-key': newIdempotencyKey() } }, body })),
  });
}

/** A gift you bought, with its recipients once it is distributed (re-read until then). */
export const useSubscriptionGift = (id: string | undefined) =>
  useQuery({
    queryKey: ['subscription-gifts', id],
    queryFn: () => unwrap(api.GET('/api/v1/subscription-gifts/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
    refetchInterval: (query) => (!query.state.data || query.state.data.status === 'pending' || query.state.data.status === 'paid' ? 2000 : false),
  });
