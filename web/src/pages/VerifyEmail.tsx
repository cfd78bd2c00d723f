import { useEffect } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSession } from '../api/session.ts';
import { useVerifyEmail } from '../features/email/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

export default function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const signedIn = useSession() !== null;
  const verify = useVerifyEmail();
  const { mutate } = verify;
  // Once per page: the token is single-use, so a second call would only report it used.
  useEffect(() => {
    if (token) mutate(token);
  }, [token, mutate]);
  return (
    <section className="narrow">
      <h1>Confirm your email address</h1>
      {!token && (
        <p className="error" role="alert">
          This link has no token; open the link from the email again.
        </p>
      )}
      {verify.isPending && <Loading what="Confirming…" />}
      {verify.isSuccess && (
        <p role="status" className="success">
          Your email address is confirmed.
        </p>
      )}
      {verify.isError && <ErrorMessage error={verify.error} />}
      <p>{signedIn ? <Link to={urls.account()}>Go to your account</Link> : <Link to={urls.signIn()}>Sign in</Link>}</p>
    </section>
  );
}
