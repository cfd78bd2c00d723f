// A creator's analytics (GET /creators/me/analytics): per UTC hour or day, read from the
// buckets the `analytics-rollup` Schedule recomputes every five minutes.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';
import type { components } from '../../api/schema.ts';

export type CreatorAnalytics = components['schemas']['CreatorAnalytics'];
export type AnalyticsBucket = components['schemas']['AnalyticsBucket'];
export type Granularity = CreatorAnalytics['granularity'];

export interface AnalyticsQuery {
  granularity: Granularity;
  /** UTC dates, `YYYY-MM-DD`; `to` is exclusive. */
  from: string;
  to: string;
}

export const useCreatorAnalytics = (query: AnalyticsQuery) =>
  useQuery({
    queryKey: ['creator-analytics', query],
    queryFn: () => unwrap(api.GET('/api/v1/creators/me/analytics', { params: { query } })),
    retry: false,
  });
