import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client.ts';
import type { components, paths } from '../../api/schema.ts';

export type Playlist = components['schemas']['Playlist'];
export type PlaylistItem = components['schemas']['PlaylistItem'];
export type Visibility = Playlist['visibility'];
type NewPlaylist = paths['/api/v1/playlists']['post']['requestBody']['content']['application/json'];
type PlaylistChanges = paths['/api/v1/playlists/{id}']['patch']['requestBody']['content']['application/json'];

/**
 * Your playlists (watch later included once it exists, so callers wait for `useWatchLater`),
 * newest first; with `withVideo`, each says whether it holds that video.
 */
export const useMyPlaylists = (withVideo: string | undefined, enabled: boolean) =>
  useQuery({
    enabled,
    queryKey: ['playlists', 'mine', withVideo ?? null],
    queryFn: () => unwrap(api.GET('/api/v1/users/{idOrUsername}/playlists', { params: { path: { idOrUsername: 'me' }, query: { limit: 100, ...(withVideo ? { withVideo } : {}) } } })),
  });

/** Your watch later playlist; the API creates it on first use. */
export const useWatchLater = (enabled = true) =>
  useQuery({ queryKey: ['playlists', 'watch-later'], queryFn: () => unwrap(api.GET('/api/v1/users/me/watch-later')), enabled });

export const usePlaylist = (id: string) =>
  useQuery({ queryKey: ['playlists', id], queryFn: () => unwrap(api.GET('/api/v1/playlists/{id}', { params: { path: { id } } })) });

/** The items you may see, in play order, 50 a page; every page says how many are left out. */
export const usePlaylistItems = (id: string) =>
  useInfiniteQuery({
    queryKey: ['playlists', id, 'items'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => {
      const { data, error, response } = await api.GET('/api/v1/playlists/{id}/items', { params: { path: { id }, query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } });
      if (data && response.ok) return { items: data.data, nextCursor: data.meta.nextCursor, unavailableCount: data.meta.unavailableCount };
      const body = (error ?? {}) as { error?: { code?: string; message?: string } };
      throw new ApiError(response.status, body.error?.code ?? 'http_error', body.error?.message ?? `Request failed (${response.status})`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

/** Every playlist change re-reads the playlists (their counts, order and `hasVideo` change together). */
function usePlaylistMutation<T, R>(fn: (arg: T) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => client.invalidateQueries({ queryKey: ['playlists'] }) });
}

export const useCreatePlaylist = () => usePlaylistMutation((body: NewPlaylist) => unwrap(api.POST('/api/v1/playlists', { body })));

export const useUpdatePlaylist = (id: string) => usePlaylistMutation((body: PlaylistChanges) => unwrap(api.PATCH('/api/v1/playlists/{id}', { params: { path: { id } }, body })));

export const useDeletePlaylist = () => usePlaylistMutation((id: string) => unwrap(api.DELETE('/api/v1/playlists/{id}', { params: { path: { id } } })));

export const useAddToPlaylist = () =>
  usePlaylistMutation(({ playlistId, videoId }: { playlistId: string; videoId: string }) => unwrap(api.POST('/api/v1/playlists/{id}/items', { params: { path: { id: playlistId } }, body: { videoId } })));

export const useRemoveFromPlaylist = () =>
  usePlaylistMutation(({ playlistId, videoId }: { playlistId: string; videoId: string }) => unwrap(api.DELETE('/api/v1/playlists/{id}/items/{videoId}', { params: { path: { id: playlistId, videoId } } })));

export const useMoveInPlaylist = (playlistId: string) =>
  usePlaylistMutation(({ videoId, place }: { videoId: string; place: { before: string } | { after: string } }) =>
    unwrap(api.POST('/api/v1/playlists/{id}/items/{videoId}/move', { params: { path: { id: playlistId, videoId } }, body: place })),
  );

export const visibilityLabel: Record<Visibility, string> = { public: 'Public', unlisted: 'Unlisted (anyone with the link)', private: 'Private (only you)' };

/** The API's refusal in words a person acts on. */
export function playlistRefusal(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.status === 429) return 'You have changed playlists too often in the last minute. Try again shortly.';
  if (error.code === 'limit_reached') return error.message;
  return undefined;
}
