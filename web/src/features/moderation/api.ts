// Moderation (README "Moderation"): reports, the moderators' queue and cases, the affected
// user's cases, appeals and the appeal thread.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import type { components, paths } from '../../api/schema.ts';

export { isStaff } from './roles.ts';

type ReportBody = paths['/api/v1/reports']['post']['requestBody']['content']['application/json'];
type DecisionBody = paths['/api/v1/moderation/cases/{id}/decision']['post']['requestBody']['content']['application/json'];
type QueueQuery = NonNullable<paths['/api/v1/moderation/cases']['get']['parameters']['query']>;

export type TargetType = ReportBody['targetType'];
export type ReportReason = ReportBody['reason'];
export type DecisionAction = DecisionBody['action'];
export type PolicyRule = DecisionBody['rule'];
export type CaseStatus = NonNullable<QueueQuery['status']>;
export type Priority = NonNullable<QueueQuery['priority']>;
export type ModerationCase = components['schemas']['ModerationCase'];
export type AffectedUserCase = components['schemas']['ModerationCaseForAffectedUser'];
export type AppealMessage = components['schemas']['AppealMessage'];

// The API's own lists (workflows/plans/moderation.ts), with the words people read.
export const reportReasons: [ReportReason, string][] = [
  ['spam', 'Spam'],
  ['harassment', 'Harassment or bullying'],
  ['hate', 'Hate'],
  ['violence', 'Violence'],
  ['sexual', 'Sexual content'],
  ['minor_safety', 'A child’s safety'],
  ['copyright', 'Copyright'],
  ['illegal', 'Illegal'],
  ['other', 'Something else'],
];
export const decisionActions: [DecisionAction, string][] = [
  ['dismiss', 'Dismiss (no action)'],
  ['warn', 'Warn'],
  ['remove_content', 'Remove the content'],
  ['age_restrict', 'Age-restrict'],
  ['strike', 'Strike'],
  ['suspend', 'Suspend the account'],
  ['ban', 'Ban the account'],
  ['payout_hold', 'Hold payouts'],
];
export const policyRules: PolicyRule[] = ['spam', 'harassment', 'hate', 'violence', 'sexual', 'minor_safety', 'copyright', 'illegal', 'impersonation', 'other'];
export const caseStatuses: CaseStatus[] = ['open', 'claimed', 'decided', 'appealed', 'closed'];
export const priorities: Priority[] = ['urgent', 'high', 'normal'];
export const targetTypes: [TargetType, string][] = [
  ['video', 'Video'],
  ['stream', 'Stream'],
  ['chat_message', 'Chat message'],
  ['user', 'User'],
  ['comment', 'Comment'],
];
export const actionLabel = (action: string) => decisionActions.find(([a]) => a === action)?.[1] ?? action;
export const targetLabel = (type: string) => targetTypes.find(([t]) => t === type)?.[1] ?? type;

export const useReport = () => useMutation({ mutationFn: (body: ReportBody) => unwrap(api.POST('/api/v1/reports', { body })) });

export interface QueueFilters {
  status?: CaseStatus;
  priority?: Priority;
  targetType?: TargetType;
}

/** The queue, most urgent then oldest, one keyset page at a time ("Load more"). */
export const useQueue = (filters: QueueFilters) =>
  useInfiniteQuery({
    queryKey: ['moderation', 'queue', filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/moderation/cases', { params: { query: { ...filters, limit: 25, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const useCase = (id: string) =>
  useQuery({ queryKey: ['moderation', 'case', id], queryFn: () => unwrap(api.GET('/api/v1/moderation/cases/{id}', { params: { path: { id } } })) });

function useCaseMutation<T, R>(id: string, fn: (body: T) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => client.invalidateQueries({ queryKey: ['moderation'] }) });
}

export const useClaim = (id: string) => useCaseMutation(id, () => unwrap(api.POST('/api/v1/moderation/cases/{id}/claim', { params: { path: { id } } })));
export const useDecide = (id: string) => useCaseMutation(id, (body: DecisionBody) => unwrap(api.POST('/api/v1/moderation/cases/{id}/decision', { params: { path: { id } }, body })));
export const useRuleOnAppeal = (id: string) =>
  useCaseMutation(id, (body: { upheld: boolean; note: string }) => unwrap(api.POST('/api/v1/moderation/cases/{id}/appeal/decision', { params: { path: { id } }, body })));

/** The decisions about you or your content (also for a restricted account). */
export const useMyCases = () =>
  useInfiniteQuery({
    queryKey: ['moderation', 'mine'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/moderation/my-cases', { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const useAppeal = (id: string) => useCaseMutation(id, (message: string) => unwrap(api.POST('/api/v1/moderation/cases/{id}/appeal', { params: { path: { id } }, body: { message } })));

/** The appeal's thread, oldest first (every page: a thread is short). */
export const useAppealMessages = (id: string, enabled = true) =>
  useQuery({
    queryKey: ['moderation', 'thread', id],
    enabled,
    queryFn: async () => {
      const all: AppealMessage[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrapPage(api.GET('/api/v1/moderation/cases/{id}/appeal/messages', { params: { path: { id }, query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },
  });

/** One message; the Idempotency-Key makes a retried send the same message. */
export const usePostAppealMessage = (id: string) =>
  useCaseMutation(id, ({ message, key }: { message: string; key: string }) =>
    unwrap(api.POST('/api/v1/moderation/cases/{id}/appeal/messages', { params: { path: { id }, header: { 'idempotency-key': key } }, body: { message } })),
  );
