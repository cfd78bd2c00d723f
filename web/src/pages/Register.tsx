import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError } from '../api/client.ts';
import { register } from '../auth/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

/** The API names each bad field in `details`; show them next to the form. */
const fieldMessages = (error: unknown) =>
  error instanceof ApiError && Array.isArray(error.details) ? (error.details as { field?: string; message?: string }[]).map((d) => `${d.field}: ${d.message}`) : [];

export default function Register() {
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await register({ email: String(form.get('email')), username: String(form.get('username')), password: String(form.get('password')) });
      await navigate(urls.home());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Username
          <input name="username" autoComplete="username" required minLength={3} maxLength={30} pattern="[A-Za-z0-9_]+" aria-describedby="username-hint" />
        </label>
        <p id="username-hint" className="hint">
          3–30 letters, digits or _
        </p>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} aria-describedby="password-hint" />
        </label>
        <p id="password-hint" className="hint">
          At least 8 characters
        </p>
        {error !== undefined && <ErrorMessage error={error} />}
        {fieldMessages(error).length > 0 && (
          <ul className="error">
            {fieldMessages(error).map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        )}
        <button type="submit" disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Have an account? <Link to={urls.signIn()}>Sign in</Link>
      </p>
    </section>
  );
}
