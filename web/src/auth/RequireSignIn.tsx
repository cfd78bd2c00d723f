import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../api/session.ts';
import { urls } from '../urls.ts';

/** Pages for signed-in people send everyone else to sign in, and back here afterwards. */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const current = useSession();
  const location = useLocation();
  if (!current) return <Navigate to={urls.signIn(location.pathname + location.search)} replace />;
  return children;
}
