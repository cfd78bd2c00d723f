// The frame of every finance page: signed in, a finance or admin role (others get a clear
// refusal, as the API would give them), and the section's own navigation.
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useSession } from '../../api/session.ts';
import { RequireSignIn } from '../../auth/RequireSignIn.tsx';
import { urls } from '../../urls.ts';
import { isFinanceRole } from './api.ts';
import '../../finance.css';

export function FinanceFrame({ title, children }: { title: string; children: ReactNode }) {
  const role = useSession()?.user.role;
  return (
    <RequireSignIn>
      <h1>{title}</h1>
      {isFinanceRole(role) ? (
        <>
          <nav aria-label="Finance" className="finance-nav">
            <NavLink to={urls.financePayoutRuns()}>Payout runs</NavLink>
            <NavLink to={urls.financeLedger()}>Ledger</NavLink>
            <NavLink to={urls.financeHolds()}>Payout holds</NavLink>
          </nav>
          {children}
        </>
      ) : (
        <p className="error">Only finance staff and administrators can see finance pages.</p>
      )}
    </RequireSignIn>
  );
}

/** A wide table that scrolls inside itself on a narrow screen, reachable from the keyboard. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
