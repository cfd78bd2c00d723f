import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { completeSignIn, signIn, type TwoFactorChallenge } from '../auth/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

/** Only paths of this app: `next` comes from the URL and must not send people elsewhere. */
export const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') ? next : urls.home());

/** The second step for an account with two-factor sign-in: a code from the app, or a recovery code. */
function CodeStep({ challenge, onDone, onRestart }: { challenge: TwoFactorChallenge; onDone: () => void | Promise<void>; onRestart: () => void }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const value = String(new FormData(e.currentTarget).get('code')).trim();
    setBusy(true);
    setError(undefined);
    try {
      await completeSignIn(useRecovery ? { challengeToken: challenge.challengeToken, recoveryCode: value } : { challengeToken: challenge.challengeToken, code: value });
      await onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="narrow">
      <h1>Two-factor sign-in</h1>
      <form onSubmit={(e) => void submit(e)} key={useRecovery ? 'recovery' : 'code'}>
        {useRecovery ? (
          <label>
            Recovery code
            <input name="code" autoComplete="off" required maxLength={32} placeholder="xxxxx-xxxxx" />
          </label>
        ) : (
          <label>
            6-digit code from your authenticator app
            <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />
          </label>
        )}
        {error !== undefined && <ErrorMessage error={error} />}
        <button type="submit" disabled={busy}>
          Verify
        </button>
      </form>
      <p>
        <button type="button" className="secondary" onClick={() => setUseRecovery(!useRecovery)}>
          {useRecovery ? 'Use a code from the app instead' : 'Use a recovery code instead'}
        </button>
      </p>
      <p>
        <button type="button" className="secondary" onClick={onRestart}>
          Start over
        </button>
      </p>
    </section>
  );
}

export default function SignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState<TwoFactorChallenge | null>(null);
  const done = () => navigate(safeNext(params.get('next')));
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      const needed = await signIn({ login: String(form.get('login')), password: String(form.get('password')) });
      if (needed) setChallenge(needed);
      else await done();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (challenge) return <CodeStep challenge={challenge} onDone={done} onRestart={() => setChallenge(null)} />;
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email or username
          <input name="login" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error !== undefined && <ErrorMessage error={error} />}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        <Link to={urls.forgotPassword()}>Forgot password?</Link>
      </p>
      <p>
        New here? <Link to={urls.register()}>Create an account</Link>
      </p>
    </section>
  );
}
