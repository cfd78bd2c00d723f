import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useSession } from '../api/session.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useOwnProfile, useResendVerification } from '../features/email/api.ts';
import { useUpdateProfile } from '../features/users/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

/** Shown while the address is unverified; signing in does not wait for it (README, "Email"). */
function VerifyBanner() {
  const me = useOwnProfile();
  const resend = useResendVerification();
  if (!me.data || me.data.emailVerified) return null;
  return (
    <div className="banner" role="region" aria-label="Email verification">
      <p>
        Please confirm your email address: we mailed a link to <strong>{me.data.email}</strong>.
      </p>
      {resend.isSuccess ? (
        <p role="status" className="success">
          A new link is on its way.
        </p>
      ) : (
        <button type="button" onClick={() => resend.mutate()} disabled={resend.isPending}>
          Resend the email
        </button>
      )}
      {resend.isError && <ErrorMessage error={resend.error} />}
    </div>
  );
}

function ProfileForm() {
  const user = useSession()!.user;
  const update = useUpdateProfile();
  const [saved, setSaved] = useState(false);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSaved(false);
    update.mutate({ displayName: String(form.get('displayName')), bio: String(form.get('bio')) }, { onSuccess: () => setSaved(true) });
  };
  return (
    <section className="narrow">
      <h1>Account</h1>
      <VerifyBanner />
      <p>
        Signed in as <strong>{user.username}</strong> ({user.email}). <Link to={urls.channel(user.username)}>View your channel</Link>
      </p>
      <p>
        <Link to={urls.accountSecurity()}>Security: two-factor sign-in</Link>
      </p>
      <form onSubmit={submit}>
        <label>
          Display name
          <input name="displayName" defaultValue={user.displayName} maxLength={50} />
        </label>
        <label>
          Bio
          <textarea name="bio" defaultValue={user.bio} maxLength={500} rows={4} />
        </label>
        {update.isError && <ErrorMessage error={update.error} />}
        {saved && (
          <p role="status" className="success">
            Profile saved.
          </p>
        )}
        <button type="submit" disabled={update.isPending}>
          Save profile
        </button>
      </form>
    </section>
  );
}

export default function Account() {
  return (
    <RequireSignIn>
      <ProfileForm />
    </RequireSignIn>
  );
}
