import { jetStreamManager, jetStreamResources, type Nats } from './nats.ts';
import type { ChatBadge } from './realtime-contract.ts';
import type { ChatMode, UserRole } from './schema.ts';

// Chat is one event log per stream in JetStream: `chat.<streamId>` holds messages and
// deletion markers, and a message's JetStream sequence is its id and offset. The stream
// republishes every stored event to `chatlive.<streamId>` for the gateways, so a viewer
// only ever sees what was stored, and a duplicate publish (same nonce) is stored once.

export const CHAT_MAX_CHARS = 500;
export const CHAT_RATE_WINDOW_SECONDS = 30;
export const CHAT_RATE_LIMIT = 20;
export const CHAT_MODERATOR_RATE_LIMIT = 100;
export const CHAT_MAX_SLOW_MODE_SECONDS = 600;
/** Who may chat in a stream (`streams.chat_mode`); owner, channel moderators and staff always may. */
export const CHAT_MODES = ['everyone', 'followers', 'subscribers'] as const satisfies readonly ChatMode[];
/** Messages a joining viewer receives; older ones are paged from the archive over HTTP. */
export const CHAT_HISTORY_SIZE = 50;
/** Missed events a reconnecting viewer can recover in one go; beyond it they get the recent history. */
export const CHAT_RECOVERY_LIMIT = 500;

export interface ChatMessageEvent {
  kind: 'message';
  streamId: string;
  userId: string;
  username: string;
  text: string;
  sentAt: string;
  /** The sender's badges when the gateway accepted it; absent on messages stored before badges existed. */
  badges?: ChatBadge[];
  nonce?: string;
}

export interface ChatDeletedEvent {
  kind: 'deleted';
  streamId: string;
  messageId: string;
  deletedBy: string;
  deletedAt: string;
}

export type ChatEvent = ChatMessageEvent | ChatDeletedEvent;

/** An event as stored: `seq` is its JetStream sequence (for a message, its id). */
export type StoredChatEvent = ChatEvent & { seq: number };

export function chatSubject(nats: Nats, streamId: string): string {
  return nats.subject(`chat.${streamId}`);
}

export function chatLiveSubject(nats: Nats, streamId: string): string {
  return nats.subject(`chatlive.${streamId}`);
}

export function parseChatEvent(data: Uint8Array, seq: number): StoredChatEvent | undefined {
  try {
    const event = JSON.parse(new TextDecoder().decode(data)) as ChatEvent;
    if (event?.kind !== 'message' && event?.kind !== 'deleted') return undefined;
    return { ...event, seq };
  } catch {
    return undefined;
  }
}

/**
 * Stores a chat event and returns its sequence. `dedupeId` (a message's sender and nonce, a
 * deletion's target) makes a retried publish within two minutes return the first one's
 * sequence instead of storing it again.
 */
export async function publishChatEvent(nats: Nats, event: ChatEvent, dedupeId?: string): Promise<{ seq: number; duplicate: boolean }> {
  const ack = await nats.connection
    .jetstream()
    .publish(chatSubject(nats, event.streamId), JSON.stringify(event), dedupeId ? { msgID: dedupeId } : undefined);
  return { seq: ack.seq, duplicate: ack.duplicate };
}

/** One stored event of the chat log by sequence, or undefined when it is gone or not this stream's. */
export async function readChatEvent(nats: Nats, streamId: string, seq: number): Promise<StoredChatEvent | undefined> {
  const jsm = await jetStreamManager(nats);
  const { chatStream } = jetStreamResources(nats.subject(''));
  try {
    const msg = await jsm.streams.getMessage(chatStream.name, { seq });
    return msg.subject === chatSubject(nats, streamId) ? parseChatEvent(msg.data, seq) : undefined;
  } catch {
    return undefined;
  }
}

/** Who runs a stream's chat (deletes messages, sets its modes, is exempt from them): its owner and platform moderators. */
export function moderatesChat(user: { userId: string; role: UserRole }, ownerId: string): boolean {
  return user.userId === ownerId || user.role === 'moderator' || user.role === 'admin';
}

export type ChatRefusal =
  | 'sign_in_required'
  | 'empty_message'
  | 'message_too_long'
  | 'not_joined'
  | 'chat_closed'
  | 'account_suspended'
  | 'account_banned'
  | 'followers_only'
  | 'subscribers_only'
  | 'slow_mode'
  | 'rate_limited'
  | 'message_blocked'
  | 'message_held'
  | 'chat_timeout'
  | 'chat_banned';

export const chatRefusalMessages: Record<ChatRefusal, string> = {
  sign_in_required: 'Sign in to chat',
  empty_message: 'Message is empty',
  message_too_long: `Messages are limited to ${CHAT_MAX_CHARS} characters`,
  not_joined: 'Join the stream before chatting in it',
  chat_closed: 'Chat is closed: the stream has ended',
  account_suspended: 'Your account is suspended',
  account_banned: 'Your account is banned',
  followers_only: 'Only followers can chat in this stream',
  subscribers_only: 'Only subscribers can chat in this stream',
  slow_mode: 'Slow mode is on; wait before sending another message',
  rate_limited: 'You are sending messages too fast',
  message_blocked: 'Your message contains a term this channel or the platform does not allow',
  message_held: 'Your message was held for review: it contains a term moderators look at first; it was not sent',
  chat_timeout: "You are timed out in this channel's chat",
  chat_banned: "You are banned from this channel's chat",
};

/** Normalises a message: trims it and counts characters as people see them (code points). */
export function checkChatText(raw: string): { ok: true; text: string } | { ok: false; reason: ChatRefusal } {
  const text = raw.trim();
  if (!text) return { ok: false, reason: 'empty_message' };
  if ([...text].length > CHAT_MAX_CHARS) return { ok: false, reason: 'message_too_long' };
  return { ok: true, text };
}
