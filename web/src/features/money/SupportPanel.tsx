// The watch page's support panel: send a gift paid with coins (the catalogue, the wallet's
// balance, refusals with their reason), tip the creator (amount in the settlement currency,
// a message, optionally anonymous; followed until Stripe's webhook settles it), the room's
// gifts and tips as `gift` and `donation` frames announce them, and the top gifters; gift
// subscriptions to the room's viewers (paid like a tip). A video's page has the tip form only
// (VideoSupportPanel): gifts belong to a live room.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { ApiError } from '../../api/client.ts';
import { useSession } from '../../api/session.ts';
import { ErrorMessage } from '../../layout/Status.tsx';
import type { DonationFrame, GiftFrame } from '../../realtime/frames.ts';
import { useRealtimeFrames } from '../../realtime/use-realtime.ts';
import { GiftSubscriptionsForm } from '../subscriptions/GiftSubscriptionsForm.tsx';
import { urls } from '../../urls.ts';
import { formatCoins, formatMoney, parseMinor, useCoinPacks, useGiftCatalog, useLeaderboard, useSendGift, useTip, useWallet, type TipTarget } from './api.ts';
import { PaymentStatus } from './PaymentStatus.tsx';
import '../../money.css';

const MAX_TIP_MESSAGE = 200;

/** A refused gift, in the viewer's words; the API's own message otherwise. */
function GiftRefusal({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.code === 'insufficient_funds')
    return (
      <p className="error" role="alert">
        Not sent: you do not have enough coins for this gift. <Link to={urls.wallet()}>Buy coins</Link>
      </p>
    );
  if (error instanceof ApiError && error.code === 'stream_not_live')
    return (
      <p className="error" role="alert">
        Not sent: gifts are for live streams. {error.message}
      </p>
    );
  return <ErrorMessage error={error} />;
}

function GiftForm({ streamId }: { streamId: string }) {
  const catalog = useGiftCatalog();
  const wallet = useWallet();
  const send = useSendGift(streamId);
  const [sent, setSent] = useState<string>();
  const id = useId();
  if (catalog.isError) return <ErrorMessage error={catalog.error} />;
  const gifts = catalog.data ?? [];
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const gift = gifts.find((g) => g.id === form.get('gift'));
    const quantity = Number(form.get('quantity'));
    if (!gift) return;
    setSent(undefined);
    send.mutate(
      { giftId: gift.id, quantity },
      { onSuccess: (data) => setSent(`You sent ${gift.name}${quantity > 1 ? ` ×${quantity}` : ''} (${formatCoins(data.giftSend.coins)}). ${formatCoins(data.wallet.balance)} left.`) },
    );
  };
  return (
    <form onSubmit={submit} aria-labelledby={`${id}-gift`}>
      <h3 id={`${id}-gift`}>Send a gift</h3>
      <p data-testid="wallet-balance">
        Your wallet: {wallet.data ? formatCoins(wallet.data.balance) : '…'} <Link to={urls.wallet()}>Buy coins</Link>
      </p>
      <div className="row">
        {/* Labelled by `for`, not by wrapping: a wrapping label would add the chosen value to the name. */}
        <div className="field">
          <label htmlFor={`${id}-gift-select`}>Gift</label>
          <select id={`${id}-gift-select`} name="gift" required>
            {gifts.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name} ({formatCoins(g.coins)})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-quantity`}>How many</label>
          <input id={`${id}-quantity`} name="quantity" type="number" min={1} max={100} defaultValue={1} required inputMode="numeric" />
        </div>
      </div>
      {send.isError && <GiftRefusal error={send.error} />}
      {sent && (
        <p role="status" className="success">
          {sent}
        </p>
      )}
      <button type="submit" disabled={send.isPending || gifts.length === 0}>
        Send gift
      </button>
    </form>
  );
}

function TipForm({ target }: { target: TipTarget }) {
  const packs = useCoinPacks();
  const tip = useTip();
  const client = useQueryClient();
  const [message, setMessage] = useState('');
  const [invalid, setInvalid] = useState<string>();
  const [started, setStarted] = useState<string>();
  const id = useId();
  // The settlement currency: coin packs are priced in it.
  const currency = packs.data?.[0]?.currency ?? 'USD';
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const amount = parseMinor(String(form.get('amount')), currency);
    if (amount === null) return setInvalid(`Enter an amount such as ${formatMoney(500, currency)}.`);
    setInvalid(undefined);
    setStarted(undefined);
    tip.mutate(
      { ...target, amount, currency, message: message.trim() || undefined, anonymous: form.get('anonymous') === 'on' },
      { onSuccess: (data) => setStarted(data.payment.id) },
    );
  };
  return (
    <form onSubmit={submit} aria-labelledby={`${id}-tip`}>
      <h3 id={`${id}-tip`}>Tip the creator</h3>
      <label>
        Tip amount ({currency})
        <input name="amount" inputMode="decimal" required autoComplete="off" aria-invalid={invalid ? true : undefined} aria-describedby={`${id}-amount-hint`} />
      </label>
      <p className={invalid ? 'error' : 'hint'} id={`${id}-amount-hint`}>
        {invalid ?? `From ${formatMoney(100, currency)} to ${formatMoney(50000, currency)}.`}
      </p>
      <label>
        Message (optional)
        <textarea rows={2} value={message} onChange={(e) => setMessage(e.target.value)} maxLength={MAX_TIP_MESSAGE} />
      </label>
      <label className="inline">
        <input type="checkbox" name="anonymous" /> Tip anonymously
      </label>
      {tip.isError && <ErrorMessage error={tip.error} />}
      {started && (
        <PaymentStatus key={started} id={started} what="Your tip" onSettled={() => 'streamId' in target && void client.invalidateQueries({ queryKey: ['leaderboard', target.streamId] })} />
      )}
      <button type="submit" disabled={tip.isPending}>
        Send tip
      </button>
    </form>
  );
}

type RoomEvent = GiftFrame | DonationFrame;

function describe(e: RoomEvent): string {
  if (e.type === 'gift') return `${e.sender.username} sent ${e.gift.name}${e.quantity > 1 ? ` ×${e.quantity}` : ''} (${formatCoins(e.coins)})`;
  return `${e.name} tipped ${formatMoney(e.amount, e.currency)}${e.message ? `: ${e.message}` : ''}`;
}

function RoomEvents({ streamId }: { streamId: string }) {
  const [events, setEvents] = useState<RoomEvent[]>([]);
  const leaderboard = useLeaderboard(streamId);
  const [top, setTop] = useState<{ version: number; top: { rank: number; userId: string; username: string; coins: number }[] }>();
  useRealtimeFrames((frame) => {
    if ((frame.type === 'gift' || frame.type === 'donation') && frame.streamId === streamId)
      setEvents((list) => (list.some((e) => e.type === frame.type && e.id === frame.id) ? list : [...list, frame].slice(-50)));
    else if (frame.type === 'leaderboard' && frame.streamId === streamId) setTop((current) => (current && current.version >= frame.version ? current : frame));
  });
  const board = top && (!leaderboard.data || top.version >= leaderboard.data.version) ? top : leaderboard.data;
  return (
    <>
      <h3>Gifts and tips</h3>
      {events.length === 0 ? (
        <p className="muted">None yet in this visit.</p>
      ) : (
        <ol className="room-events" aria-label="Gifts and tips" data-testid="room-events">
          {events.map((e) => (
            <li key={`${e.type}-${e.id}`}>{describe(e)}</li>
          ))}
        </ol>
      )}
      {board && board.top.length > 0 && (
        <>
          <h3>Top gifters</h3>
          <ol className="leaderboard" data-testid="leaderboard">
            {board.top.map((entry) => (
              <li key={entry.userId}>
                {entry.username}: {formatCoins(entry.coins)}
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

/** The panel's frame: signed out, a sign-in link; the creator, where their earnings are; a viewer, the forms. */
function SupportFrame({ ownerId, what, children, after }: { ownerId: string; what: string; children: ReactNode; after?: ReactNode }) {
  const me = useSession()?.user;
  const { pathname } = useLocation();
  const id = useId();
  return (
    <section className="support" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Support the creator</h2>
      {!me ? (
        <p>
          <Link to={urls.signIn(pathname)}>Sign in</Link> to send {what}.
        </p>
      ) : me.id === ownerId ? (
        <p className="muted">
          What viewers send you ({what}) is on <Link to={urls.earnings()}>your earnings page</Link>.
        </p>
      ) : (
        children
      )}
      {after}
    </section>
  );
}

export function SupportPanel({ streamId, ownerId, onAir, open }: { streamId: string; ownerId: string; onAir: boolean; open: boolean }) {
  return (
    <SupportFrame ownerId={ownerId} what="gifts and tips" after={<RoomEvents streamId={streamId} />}>
      {onAir ? (
        <>
          <GiftForm streamId={streamId} />
          <GiftSubscriptionsForm channelId={ownerId} streamId={streamId} />
        </>
      ) : (
        <p className="muted">Gifts can be sent while the stream is live.</p>
      )}
      {open && <TipForm target={{ streamId }} />}
    </SupportFrame>
  );
}

export function VideoSupportPanel({ videoId, ownerId }: { videoId: string; ownerId: string }) {
  return (
    <SupportFrame ownerId={ownerId} what="tips">
      <TipForm target={{ videoId }} />
    </SupportFrame>
  );
}
