import { describe, expect, it } from 'vitest';
import { CHAT_MAX_CHARS, checkChatText, parseChatEvent, type StoredChatEvent } from '../../lib/chat.ts';
import { chatFrame, visibleMessages } from '../../realtime/chat-room.ts';
import { parseClientFrame } from '../../realtime/frames.ts';

const message = (seq: number, nonce?: string): StoredChatEvent => ({
  kind: 'message', streamId: 's', userId: 'u', username: 'name', text: `t${seq}`, sentAt: '2026-11-25T00:00:00.000Z', seq, ...(nonce ? { nonce } : {}),
});

describe('chat text', () => {
  it('trims, refuses empty text and counts code points, not UTF-16 units', () => {
    expect(checkChatText('  hi  ')).toEqual({ ok: true, text: 'hi' });
    expect(checkChatText(' \n\t ')).toEqual({ ok: false, reason: 'empty_message' });
    expect(checkChatText('é'.repeat(CHAT_MAX_CHARS))).toMatchObject({ ok: true });
    expect(checkChatText('🎉'.repeat(CHAT_MAX_CHARS))).toMatchObject({ ok: true });
    expect(checkChatText('a'.repeat(CHAT_MAX_CHARS + 1))).toEqual({ ok: false, reason: 'message_too_long' });
  });
});

describe('chat events', () => {
  it('parses stored events and rejects anything else', () => {
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const { seq: _seq, ...event } = message(7);
    expect(parseChatEvent(bytes(event), 7)).toEqual(message(7));
    expect(parseChatEvent(bytes({ kind: 'other' }), 1)).toBeUndefined();
    expect(parseChatEvent(new TextEncoder().encode('{oops'), 1)).toBeUndefined();
  });

  it('shows messages that no marker deleted, and the nonce only when asked', () => {
    const deletion: StoredChatEvent = { kind: 'deleted', streamId: 's', messageId: '2', deletedBy: 'm', deletedAt: '2026-11-25T00:00:01.000Z', seq: 4 };
    expect(visibleMessages([message(1), message(2), message(3), deletion]).map((m) => m.id)).toEqual(['1', '3']);
    // A viewer's own messages keep their nonce in the history they get.
    expect(visibleMessages([message(1, 'mine')], 'u')[0]).toMatchObject({ id: '1', nonce: 'mine' });
    expect(visibleMessages([message(1, 'mine')], 'someone-else')[0]).not.toHaveProperty('nonce');
    expect(chatFrame(message(5, 'n') as StoredChatEvent & { kind: 'message' })).not.toHaveProperty('nonce');
    expect(chatFrame(message(5, 'n') as StoredChatEvent & { kind: 'message' }, true)).toMatchObject({ id: '5', nonce: 'n' });
  });

  it('accepts the offset to resume from on join, as a number or a digit string', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'join', streamId: 's', since: 12 }))).toEqual({ ok: true, frame: { type: 'join', streamId: 's', since: 12 } });
    expect(parseClientFrame(JSON.stringify({ type: 'join', streamId: 's', since: '12' }))).toEqual({ ok: true, frame: { type: 'join', streamId: 's', since: 12 } });
    expect(parseClientFrame(JSON.stringify({ type: 'join', streamId: 's', since: -1 })).ok).toBe(false);
  });
});
