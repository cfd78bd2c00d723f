import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { signIn } from '../auth/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

/** Only paths of this app: `next` comes from the URL and must not send people elsewhere. */
export const safeNext = (next: string | null) => (next && next.startsWith('/') && !next.startsWith('//') ? next : urls.home());

export default function SignIn() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await signIn({ login: String(form.get('login')), password: String(form.get('password')) });
      await navigate(safeNext(params.get('next')));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
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
