import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type Video = components['schemas']['Video'];

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
