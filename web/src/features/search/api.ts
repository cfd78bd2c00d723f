import { keepPreviousData, queryOptions, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, unwrap, unwrapPage } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';
import { urls } from '../../urls.ts';

export type SearchHit = components['schemas']['SearchHit'];
export type SearchType = 'all' | 'video' | 'stream' | 'channel';
export type SearchSort = 'relevance' | 'newest' | 'views';

/** The API's bound on `q` (1–100 characters once trimmed). */
export const MAX_QUERY_CHARS = 100;

/** The page that shows a hit. */
export const hitUrl = (hit: SearchHit) => (hit.type === 'video' ? urls.video(hit.id) : hit.type === 'stream' ? urls.stream(hit.id) : urls.channel(hit.username));

/** What a hit is called in a list. */
export const hitLabel = (hit: SearchHit) => (hit.type === 'channel' ? `${hit.displayName} (@${hit.username})` : hit.title);

const suggestionsQuery = (q: string) =>
  queryOptions({
    queryKey: ['search', 'suggestions', q],
    queryFn: () => unwrap(api.GET('/api/v1/search', { params: { query: { q, limit: 6 } } })),
    staleTime: 60_000,
  });

/** As-you-type suggestions; the previous list stays up while the next one loads. */
export const useSuggestions = (q: string) => useQuery({ ...suggestionsQuery(q), enabled: q.trim().length > 0, placeholderData: keepPreviousData });

/** A results page, 24 hits at a time ("More results"). */
export const useSearch = (q: string, type: SearchType, sort: SearchSort) =>
  useInfiniteQuery({
    queryKey: ['search', 'results', q, type, sort],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrapPage(api.GET('/api/v1/search', { params: { query: { q, type, sort, limit: 24, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: q.trim().length > 0,
  });
