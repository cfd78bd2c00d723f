import { type FormEvent } from 'react';
import { Link } from 'react-router';
import { useRequestPasswordReset } from '../features/email/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

export default function ForgotPassword() {
  const request = useRequestPasswordReset();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    request.mutate(String(new FormData(e.currentTarget).get('email')));
  };
  return (
    <section className="narrow">
      <h1>Forgot your password?</h1>
      {request.isSuccess ? (
        <p role="status" className="success">
          If an account uses {request.variables}, a link to choose a new password is on its way. The link works once and expires after a while.
        </p>
      ) : (
        <form onSubmit={submit}>
          <p>Enter the email address of your account and we will mail you a link to choose a new password.</p>
          <label>
            Email
            <input name="email" type="email" autoComplete="email" required maxLength={254} />
          </label>
          {request.isError && <ErrorMessage error={request.error} />}
          <button type="submit" disabled={request.isPending}>
            Send the link
          </button>
        </form>
      )}
      <p>
        <Link to={urls.signIn()}>Back to sign in</Link>
      </p>
    </section>
  );
}
