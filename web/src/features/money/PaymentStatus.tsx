// Where a payment stands, from GET /payments/{id}, re-read until Stripe's webhook settles it.
// The page does not confirm the card itself yet (Stripe.js is not in the app): the payment is
// created through our API and shown as waiting until the provider reports its outcome.
import { useEffect, useRef } from 'react';
import { ErrorMessage } from '../../layout/Status.tsx';
import { formatMoney, paymentStatusText, usePayment, type Payment } from './api.ts';

export function PaymentStatus({ id, what, onSettled }: { id: string; what: string; onSettled?: (payment: Payment) => void }) {
  const payment = usePayment(id);
  const status = payment.data?.status;
  const told = useRef<string>(undefined);
  useEffect(() => {
    if (!payment.data || status === 'requires_payment' || told.current === status) return;
    told.current = status;
    onSettled?.(payment.data);
  }, [status]); // eslint-disable-line react-hooks/exhaustive-deps
  if (payment.isError) return <ErrorMessage error={payment.error} />;
  const p = payment.data;
  return (
    <p role="status" data-testid="payment-status" className={status === 'failed' ? 'error' : status === 'succeeded' ? 'success' : undefined}>
      {p ? (
        <>
          {what} ({formatMoney(p.amount, p.currency)}): {paymentStatusText[p.status]}
          {p.status === 'requires_payment' ? '…' : p.status === 'failed' && p.failureReason ? `: ${p.failureReason}` : '.'}
        </>
      ) : (
        `${what}: starting…`
      )}
    </p>
  );
}
