// What stands before an age-restricted video or stream (README "Moderation": clients show an
// interstitial before playing). Signed out there is nothing to play (the API gives no playback
// URL), so the gate asks to sign in; signed in, the person chooses to watch.
import { useId, useState, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useSession } from '../../api/session.ts';
import { urls } from '../../urls.ts';

export function AgeGate({ what, children }: { what: 'video' | 'stream'; children: ReactNode }) {
  const signedIn = useSession()?.user !== undefined;
  const { pathname } = useLocation();
  const [chosen, setChosen] = useState(false);
  const id = useId();
  if (signedIn && chosen) return children;
  return (
    <section className="status-panel" aria-labelledby={id}>
      <h2 id={id}>Age-restricted {what}</h2>
      <p>Moderators marked this {what} as unsuitable for some audiences.</p>
      {signedIn ? (
        <button type="button" onClick={() => setChosen(true)}>
          Watch anyway
        </button>
      ) : (
        <p>
          <Link to={urls.signIn(pathname)}>Sign in</Link> to watch it.
        </p>
      )}
    </section>
  );
}
