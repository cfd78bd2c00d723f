// Two-factor sign-in: each call as the API names it (README, "Two-factor sign-in").
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';

export const useSetUpTwoFactor = () => useMutation({ mutationFn: (password: string) => unwrap(api.POST('/api/v1/auth/two-factor/setup', { body: { password } })) });

export function useEnableTwoFactor() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => unwrap(api.POST('/api/v1/auth/two-factor/enable', { body: { code } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['users', 'me'] }),
  });
}

export function useDisableTwoFactor() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { password: string; code: string } | { password: string; recoveryCode: string }) => unwrap(api.POST('/api/v1/auth/two-factor/disable', { body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['users', 'me'] }),
  });
}

export const useNewRecoveryCodes = () =>
  useMutation({ mutationFn: (code: string) => unwrap(api.POST('/api/v1/auth/two-factor/recovery-codes', { body: { code } })) });
