// Views and watch history: the player's heartbeats (a view counts once per viewer per window,
// README "Views, watch history and resume") and the signed-in viewer's history.
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type HistoryItem = components['schemas']['HistoryItem'];

const DEVICE_KEY = 'streamhub.deviceId';

/**
 * The id an anonymous player counts its views under: random, kept in localStorage. Without
 * storage (private modes that refuse it) none is sent and the API counts by address.
 */
function deviceId(): string | undefined {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = crypto.randomUUID();
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    return undefined;
  }
}

/** One heartbeat; `leaving` lets it outlive the page (keepalive). Failures are dropped: the next one carries the position again. */
export function sendHeartbeat(videoId: string, positionSeconds: number, leaving = false): void {
  const id = deviceId();
  void api
    .POST('/api/v1/videos/{id}/views', {
      params: { path: { id: videoId } },
      body: { positionSeconds: Math.max(0, positionSeconds), ...(id ? { deviceId: id } : {}) },
      keepalive: leaving,
    })
    .catch(() => undefined);
}

export const useHistory = () =>
  useInfiniteQuery({
    queryKey: ['history'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/users/me/history', { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Watching elsewhere changes it; read it afresh on every visit.
    refetchOnMount: 'always',
  });

/** Removes one video (`videoId`) or, without one, the whole history; resume positions go with them. */
export function useRemoveHistory() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (videoId?: string) =>
      unwrap(videoId ? api.DELETE('/api/v1/users/me/history/{id}', { params: { path: { id: videoId } } }) : api.DELETE('/api/v1/users/me/history', {})),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: ['history'] }), client.invalidateQueries({ queryKey: ['videos'] })]),
  });
}
