// Comments on a video (README "Comments"): the top-level list in either sort, a comment's
// replies, and the writes. Every write refreshes the video's comment lists and its count.
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type Comment = components['schemas']['Comment'];
export type CommentSort = 'newest' | 'top';

export const useComments = (videoId: string, sort: CommentSort) =>
  useInfiniteQuery({
    queryKey: ['comments', videoId, 'list', sort],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET('/api/v1/videos/{id}/comments', { params: { path: { id: videoId }, query: { sort, limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export const useReplies = (videoId: string, commentId: string, enabled: boolean) =>
  useInfiniteQuery({
    queryKey: ['comments', videoId, 'replies', commentId],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/comments/{id}/replies', { params: { path: { id: commentId }, query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled,
  });

function useCommentMutation<T, R>(videoId: string, fn: (input: T) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: async () => {
      // A list still on its first load was asked before this write, and invalidating joins a
      // first load rather than restarting it: its answer, without the write, would stand.
      await client.cancelQueries({ queryKey: ['comments', videoId] });
      await Promise.all([client.invalidateQueries({ queryKey: ['comments', videoId] }), client.invalidateQueries({ queryKey: ['videos', videoId] })]);
    },
  });
}

/** Posts with an Idempotency-Key the form keeps until it succeeds, so a retried click posts once. */
export const usePostComment = (videoId: string) =>
  useCommentMutation(videoId, (input: { body: string; parentId?: string; idempotencyKey: string }) =>
    unwrap(
      api.POST('/api/v1/videos/{id}/comments', {
        params: { path: { id: videoId }, header: { 'idempotency-key': input.idempotencyKey } },
        body: { body: input.body, ...(input.parentId ? { parentId: input.parentId } : {}) },
      }),
    ),
  );

export const useEditComment = (videoId: string) =>
  useCommentMutation(videoId, (input: { id: string; body: string }) => unwrap(api.PATCH('/api/v1/comments/{id}', { params: { path: { id: input.id } }, body: { body: input.body } })));

export const useDeleteComment = (videoId: string) => useCommentMutation(videoId, (id: string) => unwrap(api.DELETE('/api/v1/comments/{id}', { params: { path: { id } } })));

export const usePinComment = (videoId: string) =>
  useCommentMutation(videoId, (input: { id: string; pinned: boolean }) => {
    const params = { params: { path: { id: input.id } } };
    return unwrap(input.pinned ? api.PUT('/api/v1/comments/{id}/pin', params) : api.DELETE('/api/v1/comments/{id}/pin', params));
  });

export const useLikeComment = (videoId: string) =>
  useCommentMutation(videoId, (input: { id: string; liked: boolean }) => {
    const params = { params: { path: { id: input.id } } };
    return unwrap(input.liked ? api.PUT('/api/v1/comments/{id}/like', params) : api.DELETE('/api/v1/comments/{id}/like', params));
  });
