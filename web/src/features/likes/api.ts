import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';

export type LikeTarget = 'video' | 'stream';

/**
 * Like (true) or unlike (false) a video or a stream; both are idempotent on the API. The
 * answer's exact count replaces the one in the page's cached video or stream.
 */
export function useLike(target: LikeTarget, id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (liked: boolean) => {
      const params = { params: { path: { id } } };
      if (target === 'video') return unwrap(liked ? api.PUT('/api/v1/videos/{id}/like', params) : api.DELETE('/api/v1/videos/{id}/like', params));
      return unwrap(liked ? api.PUT('/api/v1/streams/{id}/like', params) : api.DELETE('/api/v1/streams/{id}/like', params));
    },
    onSuccess: (state) =>
      client.setQueryData([`${target}s`, id], (old: { likeCount: number; likedByMe: boolean | null } | undefined) =>
        old ? { ...old, likeCount: state.likeCount, likedByMe: state.liked } : old,
      ),
  });
}
