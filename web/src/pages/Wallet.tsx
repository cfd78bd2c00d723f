// /wallet — the coin balance, coin packs to buy (one Idempotency-Key per click), the purchase
// followed until Stripe's webhook settles it, and the wallet's history.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { entryKind, formatCoins, formatMoney, useBuyCoins, useCoinPacks, useWallet } from '../features/money/api.ts';
import { PaymentStatus } from '../features/money/PaymentStatus.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import '../money.css';

function Packs() {
  const packs = useCoinPacks();
  const buy = useBuyCoins();
  const client = useQueryClient();
  const [started, setStarted] = useState<{ id: string; what: string }>();
  if (packs.isPending) return <Loading />;
  if (packs.isError) return <ErrorMessage error={packs.error} />;
  return (
    <section aria-labelledby="packs-heading">
      <h2 id="packs-heading">Buy coins</h2>
      {packs.data.length === 0 ? (
        <p className="muted">No coin packs are on sale right now.</p>
      ) : (
        <ul className="packs">
          {packs.data.map((pack) => {
            const what = `${formatCoins(pack.coins)} for ${formatMoney(pack.amount, pack.currency)}`;
            return (
              <li key={pack.id} className="card">
                <span className="card-title">{formatCoins(pack.coins)}</span>
                <span>{formatMoney(pack.amount, pack.currency)}</span>
                <button type="button" disabled={buy.isPending} aria-label={`Buy ${what}`} onClick={() => buy.mutate(pack.id, { onSuccess: (data) => setStarted({ id: data.payment.id, what: `Buying ${formatCoins(pack.coins)}` }) })}>
                  Buy
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {buy.isError && <ErrorMessage error={buy.error} />}
      {started && <PaymentStatus key={started.id} id={started.id} what={started.what} onSettled={() => void client.invalidateQueries({ queryKey: ['wallet'] })} />}
      <p className="hint">
        Card payments are confirmed by Stripe; the coins reach your wallet once Stripe tells StreamHub the payment went through.
      </p>
    </section>
  );
}

function Balance() {
  const wallet = useWallet();
  if (wallet.isPending) return <Loading />;
  if (wallet.isError) return <ErrorMessage error={wallet.error} />;
  const w = wallet.data;
  return (
    <>
      <p className="balance" data-testid="coin-balance">
        Balance: <strong>{formatCoins(w.balance)}</strong>
      </p>
      <Packs />
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {w.history.length === 0 ? (
          <p className="muted">Nothing yet.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">Coins</th>
                  <th scope="col">Balance after</th>
                </tr>
              </thead>
              <tbody>
                {w.history.map((h) => (
                  <tr key={h.id}>
                    <td>
                      <time dateTime={h.createdAt}>{new Date(h.createdAt).toLocaleString()}</time>
                    </td>
                    <td>{entryKind(h.kind)}</td>
                    <td>{h.amount > 0 ? `+${h.amount}` : h.amount}</td>
                    <td>{h.balanceAfter ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export default function WalletPage() {
  return (
    <RequireSignIn>
      <section>
        <h1>Wallet</h1>
        <p>Coins pay for gifts on live streams.</p>
        <Balance />
      </section>
    </RequireSignIn>
  );
}
