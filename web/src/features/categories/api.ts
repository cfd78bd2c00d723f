import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client.ts';

export const categoriesQuery = () =>
  queryOptions({
    queryKey: ['categories'],
    queryFn: () => unwrap(api.GET('/api/v1/categories', {})),
    staleTime: 5 * 60_000,
  });

export const useCategories = () => useQuery(categoriesQuery());
