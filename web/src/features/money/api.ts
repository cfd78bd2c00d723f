// Money as viewers and creators use it: coin packs and the wallet, payments (coin purchases and
// tips) followed until Stripe's webhook settles them, gifts sent with coins, a creator's
// earnings, payout method and payouts. Amounts are integer minor units (coins for the wallet);
// they become text only through `formatMoney` / `formatCoins`.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type CoinPack = components['schemas']['CoinPack'];
export type Payment = components['schemas']['Payment'];
export type Gift = components['schemas']['Gift'];
export type Wallet = components['schemas']['Wallet'];
export type Earnings = components['schemas']['Earnings'];
export type PayoutMethod = components['schemas']['PayoutMethod'];
export type Payout = components['schemas']['Payout'];
export type Leaderboard = components['schemas']['Leaderboard'];

export { formatCoins, formatMoney, parseMinor } from './format.ts';

/** A fresh Idempotency-Key: one per thing the person means to do (one click of Buy, Send, Tip). */
export const newIdempotencyKey = () => crypto.randomUUID();

/** What a history entry's `kind` means to a person. */
export const entryKinds: Record<string, string> = {
  coin_purchase: 'Coins bought',
  'coin_purchase.refund': 'Coin purchase refunded',
  'coin_purchase.dispute': 'Coin purchase disputed',
  'coin_purchase.dispute_won': 'Dispute won',
  gift: 'Gift',
  tip: 'Tip',
  'tip.refund': 'Tip refunded',
  'tip.dispute': 'Tip disputed',
  'tip.dispute_won': 'Dispute won',
  'subscription.period_paid': 'Subscription',
  subscription_gift: 'Gifted subscriptions',
  'subscription_gift.refund': 'Gifted subscriptions refunded',
  'subscription_gift.dispute': 'Gifted subscriptions disputed',
  'subscription_gift.dispute_won': 'Dispute won',
  'earnings.matured': 'Hold ended: now available',
  'payout.reserved': 'Set aside for a payout',
  'payout.released': 'Payout released',
  'payout.paid': 'Paid out',
  'payout.returned': 'Payout returned',
  'payout.bank_returned': 'Payout returned by the bank',
};
export const entryKind = (kind: string) => entryKinds[kind] ?? kind.replaceAll(/[._]/g, ' ');

export const paymentStatusText: Record<Payment['status'], string> = {
  requires_payment: 'Waiting for the payment to be confirmed',
  succeeded: 'Paid',
  failed: 'Failed',
  refunded: 'Refunded',
  partially_refunded: 'Partly refunded',
  disputed: 'Disputed',
};

export const coinPacksQuery = () =>
  queryOptions({ queryKey: ['coin-packs'], queryFn: () => unwrap(api.GET('/api/v1/coin-packs')), staleTime: 5 * 60_000 });
export const useCoinPacks = () => useQuery(coinPacksQuery());

export const useWallet = (enabled = true) =>
  useQuery({ queryKey: ['wallet'], queryFn: () => unwrap(api.GET('/api/v1/wallet', { params: { query: { limit: 20 } } })), enabled });

export function useBuyCoins() {
  return useMutation({
    mutationFn: (coinPackId: string) =>
      unwrap(api.POST('/api/v1/coin-purchases', { params: { header: { 'idempotency-key': newIdempotencyKey() } }, body: { coinPackId } })),
  });
}

/** A payment, re-read every 2 s while Stripe has not reported it (`requires_payment`): the webhook settles it, not the page. */
export const usePayment = (id: string | undefined) =>
  useQuery({
    queryKey: ['payments', id],
    queryFn: () => unwrap(api.GET('/api/v1/payments/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
    refetchInterval: (query) => (!query.state.data || query.state.data.status === 'requires_payment' ? 2000 : false),
  });

/** What a tip is given on: a live room (announced there) or a video (its creator). */
export type TipTarget = { streamId: string } | { videoId: string };

export function useTip() {
  return useMutation({
    mutationFn: (body: TipTarget & { amount: number; currency: string; message?: string; anonymous?: boolean }) =>
      unwrap(api.POST('/api/v1/tips', { params: { header: { 'idempotency-key': newIdempotencyKey() } }, body })),
  });
}

export const useGiftCatalog = () => useQuery({ queryKey: ['gifts'], queryFn: () => unwrap(api.GET('/api/v1/gifts')), staleTime: 5 * 60_000 });

export function useSendGift(streamId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { giftId: string; quantity: number }) =>
      unwrap(api.POST('/api/v1/streams/{id}/gifts', { params: { path: { id: streamId }, header: { 'idempotency-key': newIdempotencyKey() } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['wallet'] }),
  });
}

export const useLeaderboard = (streamId: string) =>
  useQuery({ queryKey: ['leaderboard', streamId], queryFn: () => unwrap(api.GET('/api/v1/streams/{id}/leaderboard', { params: { path: { id: streamId }, query: { limit: 5 } } })) });

export const useEarnings = () =>
  useQuery({ queryKey: ['earnings'], queryFn: () => unwrap(api.GET('/api/v1/creators/me/earnings', { params: { query: { limit: 20 } } })), retry: false });

export const usePayoutMethod = () => useQuery({ queryKey: ['payout-method'], queryFn: () => unwrap(api.GET('/api/v1/creators/me/payout-method')) });

export type PayoutMethodInput = { kind: 'bank_transfer'; accountHolder: string; iban: string } | { kind: 'stripe' };

export function useSavePayoutMethod() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: PayoutMethodInput) => unwrap(api.PUT('/api/v1/creators/me/payout-method', { body })),
    onSuccess: (data) => client.setQueryData(['payout-method'], { method: data.method }),
  });
}

export const usePayouts = () => useQuery({ queryKey: ['payouts'], queryFn: () => unwrap(api.GET('/api/v1/creators/me/payouts', { params: { query: { limit: 50 } } })) });
