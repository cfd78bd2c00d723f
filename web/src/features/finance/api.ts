// Finance staff's queries and mutations: payout runs, the ledger, payout holds. Every amount
// the API gives is integer minor units of its currency (coins for COIN).
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type PayoutRun = components['schemas']['PayoutRun'];
export type PayoutItem = components['schemas']['PayoutItem'];
export type LedgerAccount = components['schemas']['LedgerAccount'];
export type LedgerEntry = components['schemas']['LedgerEntry'];
export type PayoutHold = components['schemas']['PayoutHold'];

/** Roles the finance routes admit (the API's `requireRole('finance', 'admin')`). */
export const isFinanceRole = (role: string | undefined) => role === 'finance' || role === 'admin';

interface PageMeta {
  nextCursor: string | null;
}

/** Unwraps a paged envelope: its items and the cursor of the next page. */
async function unwrapPage<T>(call: Promise<{ data?: { data: T; meta: PageMeta }; error?: unknown; response: Response }>): Promise<{ data: T; nextCursor: string | null }> {
  const res = await call;
  const data = await unwrap(Promise.resolve(res));
  return { data, nextCursor: res.data!.meta.nextCursor };
}

/** `12345` USD → "$123.45"; COIN (and unknown codes) as a plain count. */
export function formatAmount(minor: number, currency: string): string {
  if (currency === 'COIN') return `${minor.toLocaleString()} coins`;
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency} (minor units)`;
  }
}

/** `awaiting_approval` → "awaiting approval". */
export const phaseLabel = (phase: string) => phase.replace(/_/g, ' ');

/** A run still moving: its page follows it until it ends. */
export const runIsOpen = (run: PayoutRun) => !run.finishedAt;

export const usePayoutRuns = () =>
  useQuery({
    queryKey: ['finance', 'payout-runs'],
    queryFn: () => unwrap(api.GET('/api/v1/finance/payout-runs', { params: { query: { limit: 50 } } })),
    refetchInterval: (query) => (query.state.data?.some(runIsOpen) ? 3000 : false),
  });

export const usePayoutRun = (id: string) =>
  useQuery({
    queryKey: ['finance', 'payout-runs', id],
    queryFn: () => unwrap(api.GET('/api/v1/finance/payout-runs/{id}', { params: { path: { id }, query: { limit: 100 } } })),
    refetchInterval: (query) => (query.state.data && !runIsOpen(query.state.data.run) ? false : 1500),
  });

function useRunMutation<T, V>(mutationFn: (vars: V) => Promise<T>) {
  const client = useQueryClient();
  return useMutation({ mutationFn, onSettled: () => client.invalidateQueries({ queryKey: ['finance', 'payout-runs'] }) });
}

export function useStartRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { currency: string; minimumAmount?: number }) => unwrap(api.POST('/api/v1/finance/payout-runs', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['finance', 'payout-runs'] }),
  });
}

export const useApproveRun = (id: string) =>
  useRunMutation((exclude: string[]) => unwrap(api.POST('/api/v1/finance/payout-runs/{id}/approve', { params: { path: { id } }, body: exclude.length ? { exclude } : {} })));

export const useCancelRun = (id: string) => useRunMutation(() => unwrap(api.POST('/api/v1/finance/payout-runs/{id}/cancel', { params: { path: { id } } })));

export const useBankFileLink = (id: string) => useMutation({ mutationFn: () => unwrap(api.GET('/api/v1/finance/payout-runs/{id}/bank-file', { params: { path: { id } } })) });

export const useUploadBankStatus = (id: string) =>
  useRunMutation((content: string) => unwrap(api.POST('/api/v1/finance/payout-runs/{id}/bank-status', { params: { path: { id } }, body: { content } })));

export const useSettleItem = (id: string) =>
  useRunMutation((vars: { itemId: string; outcome: 'paid' | 'failed'; reason?: string }) =>
    unwrap(api.POST('/api/v1/finance/payout-runs/{id}/items/{itemId}/settle', { params: { path: { id, itemId: vars.itemId } }, body: { outcome: vars.outcome, ...(vars.reason ? { reason: vars.reason } : {}) } })),
  );

export const useTrialBalance = () => useQuery({ queryKey: ['finance', 'trial-balance'], queryFn: () => unwrap(api.GET('/api/v1/finance/trial-balance', {})) });

export const useAccounts = (filter: { currency?: string; kind?: LedgerAccount['kind'] }) =>
  useInfiniteQuery({
    queryKey: ['finance', 'accounts', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/finance/accounts', { params: { query: { limit: 50, ...filter, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const useAccount = (id: string) =>
  useInfiniteQuery({
    queryKey: ['finance', 'account', id],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/finance/accounts/{id}', { params: { path: { id }, query: { limit: 25, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const useEntries = (kind?: string) =>
  useInfiniteQuery({
    queryKey: ['finance', 'entries', kind ?? ''],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/finance/entries', { params: { query: { limit: 20, ...(kind ? { kind } : {}), ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const usePayoutHolds = () =>
  useInfiniteQuery({
    queryKey: ['finance', 'holds'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/finance/payout-holds', { params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export function usePlaceHold() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (vars: { userId: string; reason: string }) => unwrap(api.PUT('/api/v1/finance/payout-holds/{userId}', { params: { path: { userId: vars.userId } }, body: { reason: vars.reason } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['finance', 'holds'] }),
  });
}

export function useLiftHold() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) => unwrap(api.DELETE('/api/v1/finance/payout-holds/{userId}', { params: { path: { userId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['finance', 'holds'] }),
  });
}

/** Resolves a username (or id) to the user's id, for forms that take a person. */
export async function userIdOf(usernameOrId: string): Promise<string> {
  const user = await unwrap(api.GET('/api/v1/users/{id}', { params: { path: { id: usernameOrId.replace(/^@/, '') } } }));
  if (!user) throw new ApiError(404, 'not_found', 'No such user');
  return user.id;
}
