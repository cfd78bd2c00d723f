import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { useOwnProfile } from '../features/email/api.ts';
import { useDisableTwoFactor, useEnableTwoFactor, useNewRecoveryCodes, useSetUpTwoFactor } from '../features/two-factor/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';

const codeField = (
  <label>
    6-digit code from your authenticator app
    <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />
  </label>
);

/** The recovery codes, this once: the server keeps only their hashes. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState<string>();
  const text = `StreamHub recovery codes (each works once)\n\n${codes.join('\n')}\n`;
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('Copied'),
      () => setCopied('Copy failed: select the codes and copy them'),
    );
  return (
    <section className="banner" aria-labelledby="recovery-heading">
      <h2 id="recovery-heading">Your recovery codes</h2>
      <p>
        Keep these somewhere safe. Each one signs you in once if you lose your authenticator app. <strong>They are shown only now.</strong>
      </p>
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="row">
        <button type="button" className="small secondary" onClick={() => void copy()}>
          Copy the codes
        </button>
        <a className="button small secondary" href={`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`} download="streamhub-recovery-codes.txt">
          Download the codes
        </a>
        <button type="button" className="small" onClick={onDone}>
          I have saved them
        </button>
        <span role="status" className="muted">
          {copied}
        </span>
      </div>
    </section>
  );
}

function SetUp({ onEnabled }: { onEnabled: (codes: string[]) => void }) {
  const setup = useSetUpTwoFactor();
  const enable = useEnableTwoFactor();
  const confirm = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    enable.mutate(String(new FormData(e.currentTarget).get('code')).trim(), { onSuccess: (answer) => onEnabled(answer.recoveryCodes) });
  };
  const start = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setup.mutate(String(new FormData(e.currentTarget).get('password')));
  };
  if (!setup.data) {
    return (
      <form onSubmit={start} aria-label="Set up two-factor sign-in">
        <p>Two-factor sign-in is off. With it on, signing in also asks for a code from an authenticator app on your phone.</p>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {setup.isError && <ErrorMessage error={setup.error} />}
        <button type="submit" disabled={setup.isPending}>
          Set up two-factor sign-in
        </button>
      </form>
    );
  }
  return (
    <>
      <p>Scan this QR code with your authenticator app, or type the key into it.</p>
      <img
        className="qr-code"
        src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.data.qrCodeSvg)}`}
        alt="QR code that adds your StreamHub account to an authenticator app"
        width={200}
        height={200}
      />
      <p>
        Setup key: <code data-testid="setup-key">{setup.data.secret}</code>
      </p>
      <form onSubmit={confirm} aria-label="Confirm two-factor sign-in">
        {codeField}
        {enable.isError && <ErrorMessage error={enable.error} />}
        <button type="submit" disabled={enable.isPending}>
          Turn on two-factor sign-in
        </button>
      </form>
    </>
  );
}

function Manage({ onNewCodes }: { onNewCodes: (codes: string[]) => void }) {
  const renew = useNewRecoveryCodes();
  const disable = useDisableTwoFactor();
  const submitRenew = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    renew.mutate(String(new FormData(form).get('code')).trim(), {
      onSuccess: (answer) => {
        form.reset();
        onNewCodes(answer.recoveryCodes);
      },
    });
  };
  const submitDisable = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const password = String(form.get('password'));
    const factor = String(form.get('factor')).trim();
    disable.mutate(/^\d{6}$/.test(factor) ? { password, code: factor } : { password, recoveryCode: factor });
  };
  return (
    <>
      <p role="status" className="success">
        Two-factor sign-in is on.
      </p>
      <h2>New recovery codes</h2>
      <form onSubmit={submitRenew} aria-label="New recovery codes">
        {codeField}
        {renew.isError && <ErrorMessage error={renew.error} />}
        <button type="submit" className="secondary" disabled={renew.isPending}>
          Make new recovery codes
        </button>
      </form>
      <h2>Turn off two-factor sign-in</h2>
      <form onSubmit={submitDisable} aria-label="Turn off two-factor sign-in">
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <label>
          Code from your app, or a recovery code
          <input name="factor" autoComplete="one-time-code" required maxLength={32} />
        </label>
        {disable.isError && <ErrorMessage error={disable.error} />}
        <button type="submit" className="danger" disabled={disable.isPending}>
          Turn off
        </button>
      </form>
    </>
  );
}

function SecuritySection() {
  const me = useOwnProfile();
  const [codes, setCodes] = useState<string[]>();
  return (
    <section className="narrow">
      <h1>Security</h1>
      <p>
        <Link to={urls.account()}>Back to your account</Link>
      </p>
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(undefined)} />}
      {me.isError ? <ErrorMessage error={me.error} /> : !me.data ? <Loading /> : me.data.twoFactorEnabled ? <Manage onNewCodes={setCodes} /> : <SetUp onEnabled={setCodes} />}
    </section>
  );
}

export default function Security() {
  return (
    <RequireSignIn>
      <SecuritySection />
    </RequireSignIn>
  );
}
