// /dashboard/earnings — a creator's money: pending (on hold), available and reserved
// balances with their history, the payout method (a bank account shown masked, or Stripe
// Connect with its onboarding link), and their payouts with status and failure reason.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { entryKind, formatMoney, useEarnings, usePayoutMethod, usePayouts, useSavePayoutMethod, type PayoutMethod } from '../features/money/api.ts';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import { urls } from '../urls.ts';
import '../money.css';

const accountText = { pending: 'On hold', available: 'Available', reserved: 'Reserved for a payout' } as const;

function Balances() {
  const earnings = useEarnings();
  if (earnings.isPending) return <Loading />;
  if (earnings.isError) {
    if (earnings.error instanceof ApiError && earnings.error.status === 403)
      return (
        <p>
          You have no earnings yet: going live or uploading a video makes you a creator. <Link to="/dashboard">Go to your dashboard</Link>
        </p>
      );
    return <ErrorMessage error={earnings.error} />;
  }
  const e = earnings.data;
  const money = (minor: number) => formatMoney(minor, e.currency);
  return (
    <>
      <dl className="balances" data-testid="earnings">
        <div>
          <dt>On hold</dt>
          <dd data-testid="earnings-pending">{money(e.pending)}</dd>
        </div>
        <div>
          <dt>Available</dt>
          <dd data-testid="earnings-available">{money(e.available)}</dd>
        </div>
        <div>
          <dt>Reserved for a payout</dt>
          <dd data-testid="earnings-reserved">{money(e.reserved)}</dd>
        </div>
      </dl>
      <p className="hint">Earnings stay on hold while they can still be refunded, then become available and are paid in the next payout run.</p>
      <h2>History</h2>
      {e.history.length === 0 ? (
        <p className="muted">Nothing yet: tips, gifts and subscriptions you receive show here.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Balance</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {e.history.map((h) => (
                <tr key={h.id}>
                  <td>
                    <time dateTime={h.createdAt}>{new Date(h.createdAt).toLocaleString()}</time>
                  </td>
                  <td>{entryKind(h.kind)}</td>
                  <td>{accountText[h.account]}</td>
                  <td>{money(h.amount)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const methodStatus = { pending: 'pending: finish onboarding with Stripe', verified: 'verified', disabled: 'disabled' } as const;

function CurrentMethod({ method }: { method: PayoutMethod }) {
  if (!method) return <p data-testid="payout-method">You have no payout method yet: add one to be paid.</p>;
  return (
    <p data-testid="payout-method">
      {method.kind === 'bank_transfer' ? (
        <>
          Bank transfer to <strong>{method.accountHolder}</strong>, IBAN <span className="iban">{method.ibanMasked}</span>
        </>
      ) : (
        <>Stripe Connect{method.stripeAccountId ? ` (${method.stripeAccountId})` : ''}</>
      )}{' '}
      ({methodStatus[method.status]})
    </p>
  );
}

function PayoutMethodForm() {
  const method = usePayoutMethod();
  const save = useSavePayoutMethod();
  const [kind, setKind] = useState<'bank_transfer' | 'stripe'>('bank_transfer');
  const [saved, setSaved] = useState<{ onboardingUrl: string | null }>();
  if (method.isPending) return <Loading />;
  if (method.isError) return <ErrorMessage error={method.error} />;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSaved(undefined);
    const body = kind === 'stripe' ? { kind } : { kind, accountHolder: String(form.get('accountHolder')).trim(), iban: String(form.get('iban')).replace(/\s+/g, '').toUpperCase() };
    save.mutate(body, { onSuccess: (data) => setSaved({ onboardingUrl: data.onboardingUrl }) });
  };
  const ibanError =
    save.error instanceof ApiError && Array.isArray(save.error.details)
      ? (save.error.details as { field?: string; message?: string }[]).find((d) => d.field === 'iban')?.message
      : undefined;

  return (
    <>
      <CurrentMethod method={method.data.method} />
      <form onSubmit={submit} className="narrow">
        <fieldset>
          <legend>Pay me by</legend>
          <label className="inline">
            <input type="radio" name="kind" value="bank_transfer" checked={kind === 'bank_transfer'} onChange={() => setKind('bank_transfer')} />
            Bank transfer (IBAN)
          </label>
          <label className="inline">
            <input type="radio" name="kind" value="stripe" checked={kind === 'stripe'} onChange={() => setKind('stripe')} />
            Stripe Connect
          </label>
        </fieldset>
        {kind === 'bank_transfer' ? (
          <>
            <label>
              Account holder
              <input name="accountHolder" required minLength={2} maxLength={70} autoComplete="name" />
            </label>
            <label>
              IBAN
              <input name="iban" required maxLength={50} autoComplete="off" spellCheck={false} aria-invalid={ibanError ? true : undefined} aria-describedby="iban-hint" />
            </label>
            <p className="hint" id="iban-hint">
              {ibanError ? <span className="error">IBAN: {ibanError}</span> : 'Spaces are fine. Only the last four characters are shown once saved.'}
            </p>
          </>
        ) : (
          <p className="hint">Stripe asks for your details on its own pages; you are paid once it has verified your account.</p>
        )}
        {save.isError && <ErrorMessage error={save.error} />}
        {saved && (
          <p role="status" className="success">
            Payout method saved.{' '}
            {saved.onboardingUrl && (
              <a href={saved.onboardingUrl} rel="noopener noreferrer">
                Finish onboarding with Stripe
              </a>
            )}
          </p>
        )}
        <button type="submit" disabled={save.isPending}>
          Save payout method
        </button>
      </form>
    </>
  );
}

const payoutStatus: Record<string, string> = {
  reserved: 'Reserved',
  released: 'Released (back to available)',
  submitted: 'Sent',
  reversing: 'Being reversed',
  paid: 'Paid',
  failed: 'Failed',
  returned: 'Returned by the bank',
};

function Payouts() {
  const payouts = usePayouts();
  if (payouts.isPending) return <Loading />;
  if (payouts.isError) return <ErrorMessage error={payouts.error} />;
  if (payouts.data.length === 0) return <p className="muted">No payouts yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Amount</th>
            <th scope="col">Method</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {payouts.data.map((p) => (
            <tr key={p.id}>
              <td>
                <time dateTime={p.createdAt}>{new Date(p.createdAt).toLocaleString()}</time>
              </td>
              <td>{formatMoney(p.amount, p.currency)}</td>
              <td>{p.method === 'bank_transfer' ? 'Bank transfer' : 'Stripe'}</td>
              <td>
                {payoutStatus[p.status] ?? p.status}
                {p.failureReason && <span className="error">: {p.failureReason}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function Earnings() {
  return (
    <RequireSignIn>
      <h1>Earnings</h1>
      <p>
        <Link to="/dashboard">Back to the dashboard</Link> · <Link to={urls.wallet()}>Your wallet</Link>
      </p>
      <Balances />
      <h2>Payout method</h2>
      <PayoutMethodForm />
      <h2>Payouts</h2>
      <Payouts />
    </RequireSignIn>
  );
}
