import { ApiError } from '../api/client.ts';

/** A failed query or mutation, said in the API's own words. */
export function ErrorMessage({ error }: { error: unknown }) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : 'Something went wrong';
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

export const Loading = ({ what = 'Loading…' }: { what?: string }) => (
  <p className="muted" role="status">
    {what}
  </p>
);
