import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { slugify } from '../../api/categories/slug.ts';
import { decodeCursor, encodeCursor, page } from '../../api/responses.ts';
import { accountBlock, isAppealRoute, sessionEndReason } from '../../lib/access.ts';
import { AppError } from '../../lib/errors.ts';

describe('accountBlock', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('lets active users act and blocks banned ones', () => {
    expect(accountBlock({ status: 'active', suspended_until: null }, now)).toBeUndefined();
    expect(accountBlock({ status: 'banned', suspended_until: null }, now)?.code).toBe('account_banned');
  });
  it('blocks a suspension until it ends, and an open-ended one forever', () => {
    const later = new Date('2026-01-02T00:00:00Z');
    expect(accountBlock({ status: 'suspended', suspended_until: later }, now)?.message).toContain(later.toISOString());
    expect(accountBlock({ status: 'suspended', suspended_until: null }, now)?.code).toBe('account_suspended');
    expect(accountBlock({ status: 'suspended', suspended_until: new Date('2025-12-31T00:00:00Z') }, now)).toBeUndefined();
  });
});

describe('sessionEndReason', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const live = { revoked_at: null, revoked_reason: null, expires_at: new Date('2026-01-30T00:00:00Z'), status: 'active' as const, suspended_until: null, deleted_at: null };
  it('keeps a live session of an active account', () => {
    expect(sessionEndReason(live, now)).toBeUndefined();
    expect(sessionEndReason({ ...live, status: 'suspended', suspended_until: new Date('2025-12-31T00:00:00Z') }, now)).toBeUndefined();
  });
  it('names why a session ended, the account first', () => {
    const revoked = { revoked_at: now };
    expect(sessionEndReason({ ...live, ...revoked, revoked_reason: 'logout' }, now)).toBe('logout');
    expect(sessionEndReason({ ...live, ...revoked, revoked_reason: 'refresh_token_reused' }, now)).toBe('refresh_token_reused');
    expect(sessionEndReason({ ...live, ...revoked, revoked_reason: 'something new' }, now)).toBe('session_ended');
    expect(sessionEndReason({ ...live, expires_at: now }, now)).toBe('session_ended');
    expect(sessionEndReason({ ...live, status: 'banned', revoked_at: now, revoked_reason: 'logout' }, now)).toBe('account_banned');
    expect(sessionEndReason({ ...live, status: 'suspended', suspended_until: null }, now)).toBe('account_suspended');
    expect(sessionEndReason({ ...live, deleted_at: now, status: 'banned' }, now)).toBe('account_deleted');
  });
});

describe('slugify', () => {
  it.each([
    ['Just Chatting!', 'just-chatting'],
    ['  Música & Arte  ', 'musica-arte'],
    ['IRL', 'irl'],
    ['---', ''],
  ])('%s → %s', (name, slug) => expect(slugify(name)).toBe(slug));
});

describe('keyset pages', () => {
  const schema = z.object({ slug: z.string() });
  it('round-trips a cursor and refuses a forged one', () => {
    expect(decodeCursor(encodeCursor({ slug: 'music' }), schema)).toEqual({ slug: 'music' });
    expect(decodeCursor(undefined, schema)).toBeUndefined();
    expect(() => decodeCursor('garbage', schema)).toThrow(AppError);
    expect(() => decodeCursor(encodeCursor({ other: 1 }), schema)).toThrow(/Invalid cursor/);
  });
  it('trims the look-ahead row into the next cursor', () => {
    const rows = [{ slug: 'a' }, { slug: 'b' }, { slug: 'c' }];
    const first = page(rows, 2, (r) => r.slug, (r) => ({ slug: r.slug }));
    expect(first.data).toEqual(['a', 'b']);
    expect(decodeCursor(first.meta.nextCursor!, schema)).toEqual({ slug: 'b' });
    expect(page(rows.slice(0, 2), 2, (r) => r.slug, (r) => r).meta.nextCursor).toBeNull();
  });
});

describe('isAppealRoute', () => {
  it('opens to a restricted session only what appealing needs', () => {
    for (const [method, path] of [
      ['GET', '/api/v1/notifications'],
      ['POST', '/api/v1/notifications/read'],
      ['GET', '/api/v1/users/me'],
      ['POST', '/api/v1/auth/logout'],
      ['GET', '/api/v1/moderation/my-cases'],
      ['GET', '/api/v1/moderation/cases/user-x-1'],
      ['POST', '/api/v1/moderation/cases/user-x-1/appeal'],
      ['GET', '/api/v1/moderation/cases/user-x-1/appeal/messages'],
      ['POST', '/api/v1/moderation/cases/user-x-1/appeal/messages'],
    ]) {
      expect(isAppealRoute(method!, path!), `${method} ${path}`).toBe(true);
    }
    for (const [method, path] of [
      ['PATCH', '/api/v1/users/me'],
      ['PUT', '/api/v1/notifications/settings'],
      ['GET', '/api/v1/moderation/cases'],
      ['POST', '/api/v1/moderation/cases/user-x-1/claim'],
      ['POST', '/api/v1/moderation/cases/user-x-1/appeal/decision'],
      ['POST', '/api/v1/reports'],
      ['GET', '/api/v1/wallet'],
      ['GET', '/api/v1/users/me/blocked-terms'],
    ]) {
      expect(isAppealRoute(method!, path!), `${method} ${path}`).toBe(false);
    }
  });
});
