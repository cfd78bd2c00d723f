import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { session } from '../../api/session.ts';
import type { components } from '../../api/schema.ts';

export type Profile = components['schemas']['PublicProfile'];

export const profileQuery = (idOrUsername: string) =>
  queryOptions({
    queryKey: ['users', idOrUsername],
    queryFn: () => unwrap(api.GET('/api/v1/users/{id}', { params: { path: { id: idOrUsername } } })),
  });

export const useProfile = (idOrUsername: string) => useQuery(profileQuery(idOrUsername));

export function useUpdateProfile() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { displayName?: string; bio?: string }) => unwrap(api.PATCH('/api/v1/users/me', { body })),
    onSuccess: (user) => {
      session.update({ user });
      void client.invalidateQueries({ queryKey: ['users'] });
    },
  });
}

export function useFollow(userId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (follow: boolean) =>
      follow
        ? unwrap(api.POST('/api/v1/users/{id}/follow', { params: { path: { id: userId } }, body: {} }))
        : unwrap(api.DELETE('/api/v1/users/{id}/follow', { params: { path: { id: userId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['users'] }),
  });
}
