// The chat log a page keeps, by message id (the JetStream sequence): pure steps for each frame,
// so a resumed join adds exactly the missed messages and a replayed one is never shown twice.
import type { ChatFrame } from '../../realtime/frames.ts';

export type ChatLog = ReadonlyMap<string, ChatFrame>;

/** At most this many messages are kept on the page (the oldest leave first). */
export const KEEP_MESSAGES = 300;

export const byOffset = (a: ChatFrame, b: ChatFrame) => Number(a.id) - Number(b.id);

function trim(map: Map<string, ChatFrame>): Map<string, ChatFrame> {
  if (map.size <= KEEP_MESSAGES) return map;
  return new Map([...map.values()].sort(byOffset).slice(-KEEP_MESSAGES).map((m) => [m.id, m]));
}

/** `joined`: the missed messages on top of what we had (`resumed`), or the recent history instead. */
export function applyJoined(log: ChatLog, history: readonly ChatFrame[], resumed: boolean | undefined): ChatLog {
  const next = resumed ? new Map(log) : new Map<string, ChatFrame>();
  for (const m of history) next.set(m.id, m);
  return trim(next);
}

export function applyChat(log: ChatLog, message: ChatFrame): ChatLog {
  return log.has(message.id) ? log : trim(new Map(log).set(message.id, message));
}

export function applyDeleted(log: ChatLog, id: string): ChatLog {
  if (!log.has(id)) return log;
  const next = new Map(log);
  next.delete(id);
  return next;
}

/** Our messages still waiting for their `chat` frame that a (re)join's history does not hold: to send again, same nonce. */
export function toResend<P extends { nonce: string; refusal?: unknown }>(pending: readonly P[], history: readonly ChatFrame[]): P[] {
  const stored = new Set(history.flatMap((m) => (m.nonce ? [m.nonce] : [])));
  return pending.filter((p) => !p.refusal && !stored.has(p.nonce));
}

export const inOrder = (log: ChatLog): ChatFrame[] => [...log.values()].sort(byOffset);
