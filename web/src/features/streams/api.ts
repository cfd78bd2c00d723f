import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type Stream = components['schemas']['Stream'];

export const liveStreamsQuery = () =>
  queryOptions({
    queryKey: ['streams', 'live'],
    queryFn: () => unwrap(api.GET('/api/v1/streams', { params: { query: { status: 'live', limit: 20 } } })),
    refetchInterval: 30_000,
  });

export const useLiveStreams = () => useQuery(liveStreamsQuery());

/** Live streams of the channels you follow (signed in). */
export const useFollowedLiveStreams = (enabled: boolean) =>
  useQuery({
    queryKey: ['streams', 'live', 'followed'],
    queryFn: () => unwrap(api.GET('/api/v1/streams', { params: { query: { status: 'live', followed: 'true', limit: 20 } } })),
    refetchInterval: 30_000,
    enabled,
  });

export const streamQuery = (id: string) =>
  queryOptions({
    queryKey: ['streams', id],
    queryFn: () => unwrap(api.GET('/api/v1/streams/{id}', { params: { path: { id } } })),
  });
