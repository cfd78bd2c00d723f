import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '../../realtime/frames.ts';

describe('parseClientFrame', () => {
  it('accepts every client frame of the contract', () => {
    for (const frame of [
      { type: 'join', streamId: 's1' },
      { type: 'leave', streamId: 's1' },
      { type: 'chat', streamId: 's1', text: 'hi', nonce: 'n1' },
      { type: 'ping' },
      { type: 'auth', token: 'a.b.c' },
    ]) {
      expect(parseClientFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
    }
  });

  it('rejects text that is not JSON', () => {
    expect(parseClientFrame('{nope')).toEqual({
      ok: false,
      error: { type: 'error', code: 'bad_frame', message: 'Frame is not valid JSON' },
    });
  });

  it('rejects unknown types and missing fields, echoing the nonce', () => {
    const unknown = parseClientFrame(JSON.stringify({ type: 'dance' }));
    expect(unknown.ok).toBe(false);
    const missing = parseClientFrame(JSON.stringify({ type: 'chat', text: 'hi', nonce: 'abc' }));
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_frame', nonce: 'abc' } });
    expect(!missing.ok && missing.error.type === 'error' && missing.error.message).toContain('streamId');
  });
});
