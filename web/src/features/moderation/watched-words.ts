// Watched words (README "Moderation", "Watched words"): the platform's list (moderators read
// it, admins change it) and a creator's own channel blocked terms.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client.ts';
import type { components, paths } from '../../api/schema.ts';

export type WatchedWord = components['schemas']['WatchedWord'];
export type WatchedWordBody = paths['/api/v1/moderation/watched-words']['put']['requestBody']['content']['application/json'];
export type WatchLevel = WatchedWordBody['level'];

export const watchLevels: [WatchLevel, string][] = [
  ['hold', 'Hold: not published, a case for the moderators'],
  ['block', 'Block: refused'],
];
export const levelLabel = (level: string) => (level === 'hold' ? 'Hold' : level === 'block' ? 'Block' : level);

/** The most a channel may block (the API's limit). */
export const MAX_CHANNEL_TERMS = 500;

const WATCHED = ['moderation', 'watched-words'];
const BLOCKED = ['users', 'me', 'blocked-terms'];

export const useWatchedWords = () => useQuery({ queryKey: WATCHED, queryFn: () => unwrap(api.GET('/api/v1/moderation/watched-words', {})) });

export function useSaveWatchedWord() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: WatchedWordBody) => unwrap(api.PUT('/api/v1/moderation/watched-words', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: WATCHED }),
  });
}

export function useRemoveWatchedWord() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (term: string) => unwrap(api.DELETE('/api/v1/moderation/watched-words', { params: { query: { term } } })),
    onSettled: () => client.invalidateQueries({ queryKey: WATCHED }),
  });
}

export const useBlockedTerms = () => useQuery({ queryKey: BLOCKED, queryFn: () => unwrap(api.GET('/api/v1/users/me/blocked-terms', {})) });

export function useSaveBlockedTerms() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (terms: string[]) => unwrap(api.PUT('/api/v1/users/me/blocked-terms', { body: { terms } })),
    onSuccess: (saved) => client.setQueryData(BLOCKED, saved),
  });
}

/** A validation refusal's problems, field by field, in the API's words (`[]` for other errors). */
export function fieldProblems(error: unknown): { field: string; message: string }[] {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed' || !Array.isArray(error.details)) return [];
  return (error.details as { field?: string; message?: string }[]).map((d) => ({ field: d.field ?? '', message: d.message ?? '' }));
}
