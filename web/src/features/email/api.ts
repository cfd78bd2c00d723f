// Email verification and password reset: each call as the API names it (README, "Email").
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import { session } from '../../api/session.ts';

/** The signed-in user's profile as the server has it now (whether the address is verified). */
export const useOwnProfile = () =>
  useQuery({
    queryKey: ['users', 'me'],
    queryFn: async () => {
      const user = await unwrap(api.GET('/api/v1/users/me', {}));
      session.update({ user });
      return user;
    },
  });

export const useResendVerification = () => useMutation({ mutationFn: () => unwrap(api.POST('/api/v1/auth/verify-email/resend', {})) });

export function useVerifyEmail() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (token: string) => unwrap(api.POST('/api/v1/auth/verify-email', { body: { token } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['users', 'me'] }),
  });
}

export const useRequestPasswordReset = () =>
  useMutation({ mutationFn: (email: string) => unwrap(api.POST('/api/v1/auth/password-reset', { body: { email } })) });

export const useConfirmPasswordReset = () =>
  useMutation({ mutationFn: (body: { token: string; password: string }) => unwrap(api.POST('/api/v1/auth/password-reset/confirm', { body })) });
