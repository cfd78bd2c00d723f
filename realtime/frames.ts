import { z } from 'zod';
import type { ServerFrame } from '../lib/realtime-contract.ts';

export type { ChatFrame, ServerFrame } from '../lib/realtime-contract.ts';

// Client → server frames of DESIGN.md §6. The gateway validates every frame against this
// union; anything else gets an `error` frame, never a crash.

const streamId = z.string().min(1).max(64);

export const clientFrameSchema = z.discriminatedUnion('type', [
  // `since`: the id (offset) of the last chat message the client saw, to recover what it missed.
  z.object({ type: z.literal('join'), streamId, since: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,15}$/).transform(Number)]).optional() }),
  z.object({ type: z.literal('leave'), streamId }),
  z.object({ type: z.literal('chat'), streamId, text: z.string(), nonce: z.string().max(64).optional() }),
  z.object({ type: z.literal('ping') }),
  // Signs the socket in, or keeps it signed in past its token's expiry, with a fresh access token.
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
]);

export type ParsedClientFrame = z.infer<typeof clientFrameSchema>;

export type ParsedFrame = { ok: true; frame: ParsedClientFrame } | { ok: false; error: ServerFrame };

export function parseClientFrame(raw: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: { type: 'error', code: 'bad_frame', message: 'Frame is not valid JSON' } };
  }
  const result = clientFrameSchema.safeParse(json);
  if (!result.success) {
    const nonce = typeof (json as { nonce?: unknown })?.nonce === 'string' ? (json as { nonce: string }).nonce : undefined;
    const issue = result.error.issues[0];
    const message = issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'Invalid frame';
    return { ok: false, error: { type: 'error', code: 'bad_frame', message, ...(nonce ? { nonce } : {}) } };
  }
  return { ok: true, frame: result.data };
}
