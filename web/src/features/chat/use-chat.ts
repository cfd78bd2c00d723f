// A stream's chat as one viewer sees it: the history from `joined`, new messages, deletions,
// and the viewer's own messages from "sending" to stored or refused. Messages are kept by id,
// so a resumed join (`since`, README "Chat") adds exactly the missed ones and a replayed one
// is never shown twice. A message sent while the socket is down is queued by the socket; one
// sent just before it dropped is sent again after the rejoin with the same nonce (stored once).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChatFrame } from '../../realtime/frames.ts';
import type { SubscriptionFrame } from '../../realtime/frames.ts';
import { realtime } from '../../realtime/socket.ts';
import { useRealtimeFrames } from '../../realtime/use-realtime.ts';
import { applyChat, applyDeleted, applyJoined, inOrder, toResend, type ChatLog } from './log.ts';
import type { ChatRefusal } from './rules.ts';

export interface PendingMessage {
  nonce: string;
  text: string;
  refusal?: ChatRefusal;
}

export interface ChatState {
  messages: ChatFrame[];
  pending: PendingMessage[];
  /** A refusal that belongs to no message of ours (a join that failed). */
  notice?: ChatRefusal;
  /** The channel's timeout or ban of this viewer, while it holds: the input is off until it is lifted or runs out. */
  restriction?: ChatRefusal;
  /** The room's new subscriptions (`subscription` frames) seen in this visit, oldest first. */
  announcements: SubscriptionFrame[];
  joined: boolean;
  send(text: string): void;
  dismiss(nonce: string): void;
}

function newNonce(): string {
  return crypto.randomUUID();
}

export function useChat(streamId: string): ChatState {
  const [messages, setMessages] = useState<ChatLog>(() => new Map());
  const [pending, setPending] = useState<PendingMessage[]>([]);
  const [notice, setNotice] = useState<ChatRefusal>();
  const [joined, setJoined] = useState(false);
  const [restriction, setRestriction] = useState<ChatRefusal & { until?: string }>();
  const [announcements, setAnnouncements] = useState<SubscriptionFrame[]>([]);
  const pendingRef = useRef(pending);
  pendingRef.current = pending;

  useEffect(() => {
    setMessages(new Map());
    setJoined(false);
    setRestriction(undefined);
    setAnnouncements([]);
    const leave = realtime.join(streamId);
    const off = realtime.onState((state) => state !== 'open' && setJoined(false));
    return () => {
      off();
      leave();
    };
  }, [streamId]);

  // A timeout ends by itself: nothing is pushed when `until` passes.
  useEffect(() => {
    if (!restriction?.until) return;
    const timer = setTimeout(() => setRestriction(undefined), Math.max(0, Date.parse(restriction.until) - Date.now()));
    return () => clearTimeout(timer);
  }, [restriction]);

  const settle = useCallback((nonces: Set<string>) => {
    if (nonces.size) setPending((list) => list.filter((p) => !nonces.has(p.nonce)));
  }, []);

  useRealtimeFrames((frame) => {
    if (frame.type === 'subscription') {
      if (frame.streamId === streamId) setAnnouncements((list) => [...list, frame].slice(-20));
    } else if (frame.type === 'joined' && frame.streamId === streamId) {
      setJoined(true);
      setNotice(undefined);
      setMessages((current) => applyJoined(current, frame.history, frame.resumed));
      settle(new Set(frame.history.flatMap((m) => (m.nonce ? [m.nonce] : []))));
      // Ours that neither arrived nor were refused may have died with the old socket: again, same nonce.
      for (const p of toResend(pendingRef.current, frame.history)) realtime.send({ type: 'chat', streamId, text: p.text, nonce: p.nonce });
    } else if (frame.type === 'chat' && frame.streamId === streamId) {
      setMessages((current) => applyChat(current, frame));
      if (frame.nonce) settle(new Set([frame.nonce]));
    } else if (frame.type === 'chat_deleted' && frame.streamId === streamId) {
      setMessages((current) => applyDeleted(current, frame.id));
    } else if (frame.type === 'chat_restriction_lifted' && frame.streamId === streamId) {
      setRestriction(undefined);
    } else if (frame.type === 'error') {
      const refusal = { code: frame.code, message: frame.message, retryAfterSeconds: frame.retryAfterSeconds };
      const ours = frame.nonce ? pendingRef.current.some((p) => p.nonce === frame.nonce) : frame.streamId === streamId;
      if (ours && (frame.code === 'chat_banned' || frame.code === 'chat_timeout')) setRestriction({ code: frame.code, message: frame.message, until: frame.until });
      if (frame.nonce) {
        if (pendingRef.current.some((p) => p.nonce === frame.nonce)) setPending((list) => list.map((p) => (p.nonce === frame.nonce ? { ...p, refusal } : p)));
      } else if (['too_many_rooms', 'unavailable', 'not_found'].includes(frame.code)) setNotice(refusal);
    }
  });

  const send = useCallback(
    (text: string) => {
      const nonce = newNonce();
      setPending((list) => [...list, { nonce, text }]);
      realtime.send({ type: 'chat', streamId, text, nonce });
    },
    [streamId],
  );

  const dismiss = useCallback((nonce: string) => setPending((list) => list.filter((p) => p.nonce !== nonce)), []);

  return { messages: inOrder(messages), pending, notice, restriction, announcements, joined, send, dismiss };
}
