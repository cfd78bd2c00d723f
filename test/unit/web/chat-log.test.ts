import { describe, expect, it } from 'vitest';
import { applyChat, applyDeleted, applyJoined, inOrder, KEEP_MESSAGES, toResend } from '../../../web/src/features/chat/log.ts';
import { refusalText } from '../../../web/src/features/chat/rules.ts';
import type { ChatFrame } from '../../../web/src/realtime/frames.ts';

// The watch page's chat log: a resumed join (README "Chat": `since`) adds exactly what was
// missed, nothing is shown twice, deletions remove, and what we sent is settled or sent again.

const msg = (id: number, nonce?: string): ChatFrame => ({ type: 'chat', streamId: 's', id: String(id), userId: 'u', username: 'ann', text: `m${id}`, sentAt: '2026-01-01T00:00:00Z', badges: [], ...(nonce ? { nonce } : {}) });
const ids = (log: ReturnType<typeof applyJoined>) => inOrder(log).map((m) => Number(m.id));

describe('chat log', () => {
  it('adds the missed messages of a resumed join to what the page had, once each, in offset order', () => {
    let log = applyJoined(new Map(), [msg(1), msg(2)], undefined);
    log = applyChat(log, msg(3));
    log = applyChat(log, msg(3)); // the same message again (a replay): shown once
    log = applyJoined(log, [msg(4), msg(5)], true);
    expect(ids(log)).toEqual([1, 2, 3, 4, 5]);
    // Live frames that raced the resumed history are not doubled either.
    log = applyChat(log, msg(5));
    expect(ids(log)).toEqual([1, 2, 3, 4, 5]);
  });

  it('replaces the log with the recent history when the gateway could not resume', () => {
    const log = applyJoined(applyJoined(new Map(), [msg(1), msg(2)], undefined), [msg(700), msg(701)], false);
    expect(ids(log)).toEqual([700, 701]);
  });

  it('removes a deleted message and ignores a deletion of one it never had', () => {
    const log = applyJoined(new Map(), [msg(1), msg(2)], undefined);
    expect(ids(applyDeleted(log, '1'))).toEqual([2]);
    expect(applyDeleted(log, '9')).toBe(log);
  });

  it('keeps the newest messages only', () => {
    let log = applyJoined(new Map(), [], undefined);
    for (let i = 1; i <= KEEP_MESSAGES + 5; i++) log = applyChat(log, msg(i));
    expect(ids(log)).toHaveLength(KEEP_MESSAGES);
    expect(ids(log)[0]).toBe(6);
  });

  it('sends again, with the same nonce, what a rejoin’s history does not hold and nobody refused', () => {
    const pending = [{ nonce: 'a' }, { nonce: 'b' }, { nonce: 'c', refusal: { code: 'slow_mode' } }];
    expect(toResend(pending, [msg(1, 'a')]).map((p) => p.nonce)).toEqual(['b']);
  });

  it('names the rule that refused a message', () => {
    expect(refusalText({ code: 'message_too_long', message: '' })).toMatch(/at most 500 characters/);
    expect(refusalText({ code: 'slow_mode', message: '', retryAfterSeconds: 12 })).toBe('Slow mode is on: one message per interval. Try again in 12 s.');
    expect(refusalText({ code: 'followers_only', message: '' })).toMatch(/Followers-only/);
    expect(refusalText({ code: 'something_new', message: 'What the gateway said' })).toBe('What the gateway said');
  });
});
