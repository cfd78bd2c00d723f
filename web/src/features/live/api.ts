// Live streams as their owner and their viewers use them: the stream, the owner's list, and
// what the dashboard changes (create, rotate the key, end, chat settings, delete a message).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import type { components, paths } from '../../api/schema.ts';

export type LiveStream = components['schemas']['Stream'];
export type ChatSettings = components['schemas']['ChatSettings'];
export interface StreamKey {
  streamKey: string;
  ingestUrl: string;
}

export const streamQuery = (id: string) =>
  queryOptions({
    queryKey: ['streams', id],
    queryFn: () => unwrap(api.GET('/api/v1/streams/{id}', { params: { path: { id } } })),
  });

/** The stream, re-read every `refreshMs` (slow mode and followers-only have no frame of their own). */
export const useStream = (id: string, refreshMs?: number) => useQuery({ ...streamQuery(id), refetchInterval: refreshMs });

export const ownStreamsQuery = (ownerId: string) =>
  queryOptions({
    queryKey: ['streams', 'own', ownerId],
    queryFn: () => unwrap(api.GET('/api/v1/streams', { params: { query: { ownerId, limit: 50 } } })),
  });

// Live status changes behind the cache (the encoder connects): read afresh on every visit, then every 10 s.
export const useOwnStreams = (ownerId: string) => useQuery({ ...ownStreamsQuery(ownerId), refetchOnMount: 'always', refetchInterval: 10_000 });

type NewStream = paths['/api/v1/streams']['post']['requestBody']['content']['application/json'];

export function useCreateStream() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewStream) =>
      unwrap(api.POST('/api/v1/streams', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['streams'] }),
  });
}

export function useRotateKey() {
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/streams/{id}/key/rotate', { params: { path: { id } } })),
  });
}

export function useEndStream() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/streams/{id}/end', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['streams'] }),
  });
}

export function useChatSettings(streamId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ChatSettings) => unwrap(api.PUT('/api/v1/streams/{id}/chat/settings', { params: { path: { id: streamId } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['streams'] }),
  });
}

export function useDeleteChatMessage(streamId: string) {
  return useMutation({
    mutationFn: (messageId: string) => unwrap(api.DELETE('/api/v1/streams/{id}/chat/{messageId}', { params: { path: { id: streamId, messageId } } })),
  });
}

/** OBS → Settings → Stream, and the output settings that suit 2-second HLS fragments. */
export function obsSettingsText(key: StreamKey): string {
  return [
    'Service: Custom…',
    `Server: ${key.ingestUrl}`,
    `Stream Key: ${key.streamKey}`,
    '',
    'Output: Keyframe Interval 2 s, Rate Control CBR, x264 or hardware H.264; Audio AAC 44.1 or 48 kHz',
  ].join('\n');
}
