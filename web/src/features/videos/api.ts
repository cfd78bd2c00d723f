import { queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import type { components, paths } from '../../api/schema.ts';

export type Video = components['schemas']['Video'];
export type VideoChanges = NonNullable<paths['/api/v1/videos/{id}']['patch']['requestBody']>['content']['application/json'];
export type ChannelSort = 'newest' | 'most_viewed';

export const videoQuery = (id: string) =>
  queryOptions({
    queryKey: ['videos', id],
    queryFn: () => unwrap(api.GET('/api/v1/videos/{id}', { params: { path: { id } } })),
  });

/** Newest first: public ready videos, or with `ownerId` of yourself, all your own. */
export const videosQuery = (filter: { ownerId?: string; limit?: number } = {}) =>
  queryOptions({
    queryKey: ['videos', 'list', filter],
    queryFn: () => unwrap(api.GET('/api/v1/videos', { params: { query: { limit: filter.limit ?? 20, ...(filter.ownerId ? { ownerId: filter.ownerId } : {}) } } })),
  });

/** The trending list (recomputed every five minutes), best first. */
export const useTrending = (limit = 12) =>
  useQuery({ queryKey: ['videos', 'trending', limit], queryFn: () => unwrap(api.GET('/api/v1/trending', { params: { query: { limit } } })) });

export const useVideos = (filter: { ownerId?: string; limit?: number } = {}, enabled = true) => useQuery({ ...videosQuery(filter), enabled });

/** Your own videos: their statuses change behind the cache (a transcode finishes), so they are read afresh on every visit. */
export const useOwnVideos = (ownerId: string) => useQuery({ ...videosQuery({ ownerId, limit: 50 }), refetchOnMount: 'always' });

export function useRetryVideo() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/videos/{id}/retry', { params: { path: { id } } })),
    onSuccess: (video) => client.setQueryData(videoQuery(video.id).queryKey, video),
    onSettled: () => client.invalidateQueries({ queryKey: ['videos', 'list'] }),
  });
}

export function useDeleteVideo() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/v1/videos/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['videos'] }),
  });
}

/** A channel's uploads or past broadcasts, one keyset page at a time ("Load more"). */
export const useChannelVideos = (userId: string, source: 'upload' | 'recording', sort: ChannelSort) =>
  useInfiniteQuery({
    queryKey: ['videos', 'list', 'channel', userId, source, sort],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrapPage(api.GET('/api/v1/users/{id}/videos', { params: { path: { id: userId }, query: { source, sort, limit: 12, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

export function useUpdateVideo(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: VideoChanges) => unwrap(api.PATCH('/api/v1/videos/{id}', { params: { path: { id } }, body })),
    onSuccess: (video) => client.setQueryData(videoQuery(video.id).queryKey, video),
    onSettled: () => client.invalidateQueries({ queryKey: ['videos', 'list'] }),
  });
}
