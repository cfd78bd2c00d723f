import { type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useConfirmPasswordReset } from '../features/email/api.ts';
import { ErrorMessage } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

export default function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const confirm = useConfirmPasswordReset();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    confirm.mutate({ token, password: String(new FormData(e.currentTarget).get('password')) });
  };
  if (confirm.isSuccess) {
    return (
      <section className="narrow">
        <h1>Password changed</h1>
        <p role="status" className="success">
          Your new password is set, and every device that was signed in has been signed out.
        </p>
        <p>
          <Link to={urls.signIn()}>Sign in with your new password</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="narrow">
      <h1>Choose a new password</h1>
      {token ? (
        <form onSubmit={submit}>
          <label>
            New password
            <input name="password" type="password" autoComplete="new-password" required minLength={8} maxLength={128} />
          </label>
          {confirm.isError && <ErrorMessage error={confirm.error} />}
          <button type="submit" disabled={confirm.isPending}>
            Set the new password
          </button>
        </form>
      ) : (
        <p className="error" role="alert">
          This link has no token; open the link from the email again.
        </p>
      )}
      <p>
        <Link to={urls.forgotPassword()}>Ask for a new link</Link>
      </p>
    </section>
  );
}
