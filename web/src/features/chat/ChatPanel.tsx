// The chat beside (or, on a phone, below) the player. The message list is a plain list; a
// separate polite live region reads out at most one new message every few seconds, so a busy
// chat does not drown a screen reader. Refusals are alerts naming the rule that refused.
// Subscribers' messages carry their badge; the room's new subscriptions are announcement lines.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { useSession } from '../../api/session.ts';
import { urls } from '../../urls.ts';
import { ReportButton } from '../moderation/ReportButton.tsx';
import type { ChatFrame } from '../../realtime/frames.ts';
import { announcementText, subscriberBadge, type SubscriptionFrame } from '../subscriptions/frames.ts';
import { SubscriberBadge } from '../subscriptions/SubscriberBadge.tsx';
import { MAX_CHAT_LENGTH, refusalText } from './rules.ts';
import { useChat } from './use-chat.ts';

const ANNOUNCE_EVERY_MS = 5000;

export interface ChatPanelProps {
  streamId: string;
  chatMode: 'everyone' | 'followers' | 'subscribers';
  slowModeSeconds: number;
  closed: boolean;
  /** Shows a delete button on each message (the owner, moderators). */
  onDelete?: (messageId: string) => void;
}

export function ChatPanel({ streamId, chatMode, slowModeSeconds, closed, onDelete }: ChatPanelProps) {
  const chat = useChat(streamId);
  const me = useSession()?.user;
  const signedIn = Boolean(me);
  const { pathname } = useLocation();
  const [text, setText] = useState('');
  const list = useRef<HTMLOListElement>(null);
  const inputId = useId();
  const rulesId = useId();
  const announcement = useAnnouncement(chat.messages.at(-1));
  // Announcements take their place among the messages by time.
  const lines: { at: string; message?: ChatFrame; subscription?: SubscriptionFrame }[] = [...chat.messages.map((m) => ({ at: m.sentAt, message: m })), ...chat.announcements.map((a) => ({ at: a.sentAt, subscription: a }))].sort((a, b) =>
    a.at < b.at ? -1 : a.at > b.at ? 1 : 0,
  );

  // Keep the newest message in view unless the reader scrolled up.
  useEffect(() => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [chat.messages.length, chat.pending.length]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    chat.send(text);
    setText('');
  };

  return (
    <section className="chat" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`}>Chat</h2>
      <ul className="chat-rules" id={rulesId}>
        {chatMode === 'followers' && <li>Followers-only chat</li>}
        {chatMode === 'subscribers' && <li>Subscriber-only chat: the channel’s subscribers can chat</li>}
        {slowModeSeconds > 0 && <li>Slow mode: one message every {slowModeSeconds} s</li>}
        {!chat.joined && <li>Connecting to chat…</li>}
      </ul>
      {chat.notice && (
        <p className="error" role="alert">
          {refusalText(chat.notice)}
        </p>
      )}
      {chat.restriction && (
        <p className="error" role="alert">
          {refusalText(chat.restriction)}
        </p>
      )}
      <ol className="chat-messages" ref={list} aria-label="Chat messages" tabIndex={0}>
        {lines.map(({ message: m, subscription: a }) => {
          if (a)
            return (
              <li key={`subscription-${a.subscriber.id}-${a.sentAt}`} className="chat-announcement" data-testid="chat-announcement">
                {announcementText(a)}
              </li>
            );
          if (!m) return null;
          const badge = subscriberBadge(m);
          return (
            <li key={m.id} data-message-id={m.id}>
              {badge && <SubscriberBadge badge={badge} />} <span className="chat-author">{m.username}</span> <span className="chat-text">{m.text}</span>
              {me && me.id !== m.userId && <ReportButton small targetType="chat_message" targetId={`${streamId}.${m.id}`} what={`message from ${m.username}: ${m.text.slice(0, 40)}`} />}
              {onDelete && (
                <button type="button" className="small danger" onClick={() => onDelete(m.id)} aria-label={`Delete message from ${m.username}: ${m.text.slice(0, 40)}`}>
                  Delete
                </button>
              )}
            </li>
          );
        })}
        {chat.pending.map((p) => (
          <li key={p.nonce} className={p.refusal ? 'chat-refused' : 'chat-pending'}>
            <span className="chat-text">{p.text.length > 120 ? `${p.text.slice(0, 120)}…` : p.text}</span>{' '}
            {p.refusal ? (
              <>
                <span className="error" role="alert">
                  Not sent. {refusalText(p.refusal)}
                </span>{' '}
                <button type="button" className="small secondary" onClick={() => chat.dismiss(p.nonce)}>
                  Dismiss
                </button>
              </>
            ) : (
              <span className="muted">sending…</span>
            )}
          </li>
        ))}
      </ol>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {closed ? (
        <p className="muted">The chat is closed.</p>
      ) : signedIn ? (
        <form className="chat-form" onSubmit={submit}>
          <label htmlFor={inputId}>Chat message</label>
          <div className="row">
            <input id={inputId} value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${inputId}-count ${rulesId}`} autoComplete="off" disabled={Boolean(chat.restriction)} />
            <button type="submit" disabled={Boolean(chat.restriction)}>
              Send
            </button>
          </div>
          <span id={`${inputId}-count`} className={text.length > MAX_CHAT_LENGTH ? 'error' : 'hint'}>
            {text.length}/{MAX_CHAT_LENGTH}
          </span>
        </form>
      ) : (
        <p>
          <Link to={urls.signIn(pathname)}>Sign in</Link> to chat.
        </p>
      )}
    </section>
  );
}

/** The newest message, read out at most once every few seconds. */
function useAnnouncement(latest: { id: string; username: string; text: string } | undefined): string {
  const [said, setSaid] = useState('');
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!latest) return;
    const say = () => {
      last.current = Date.now();
      setSaid(`${latest.username}: ${latest.text}`);
    };
    clearTimeout(timer.current);
    const wait = last.current + ANNOUNCE_EVERY_MS - Date.now();
    if (wait <= 0) say();
    else timer.current = setTimeout(say, wait);
    return () => clearTimeout(timer.current);
  }, [latest?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  return said;
}
