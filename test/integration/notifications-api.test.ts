import { describe, expect, it } from 'vitest';
import { sleep } from '../../lib/async.ts';
import { useTestApp } from '../support/context.ts';
import { insertNotifications, newUser, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { withWorkers } from '../support/workers.ts';

const t = useTestApp();

const list = (user: TestUser, query = '') => call(t.app, 'GET', `/api/v1/notifications${query}`, { headers: user.auth });

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await probe();
    if (done(value)) return value;
    await sleep(100);
  }
  throw new Error('condition not reached');
}

describe('notifications API', () => {
  it('notifies a user of a new follower, once, through the fan-out workflow', async () => {
    const [star, fan] = [await newUser(t.app), await newUser(t.app)];
    const res = await withWorkers(t.ctx, async () => {
      await call(t.app, 'POST', `/api/v1/users/${star.id}/follow`, { headers: fan.auth });
      await call(t.app, 'DELETE', `/api/v1/users/${star.id}/follow`, { headers: fan.auth });
      await call(t.app, 'POST', `/api/v1/users/${star.id}/follow`, { headers: fan.auth });
      return eventually(() => list(star), (r) => r.json.data.length > 0);
    });
    expect(res.json.data).toHaveLength(1);
    expect(res.json.data[0]).toMatchObject({ type: 'new_follower', actorId: fan.id, entityType: 'user', entityId: fan.id, readAt: null });
    expect(res.json.meta.unreadCount).toBe(1);
  });

  it('pages newest first, filters unread, and marks read by id or all', async () => {
    const user = await newUser(t.app);
    const event = (n: number) => ({ event_id: `test:${user.id}:${n}`, recipient_id: user.id, type: 'video_published' as const, actor_id: null, entity_type: 'video', entity_id: `v${n}` });
    for (let n = 0; n < 5; n++) await t.ctx.db.insertInto('notifications').values(event(n)).execute();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await list(user, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.json.data.map((n: { entityId: string }) => n.entityId));
      cursor = page.json.meta.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['v4', 'v3', 'v2', 'v1', 'v0']);

    const first = (await list(user, '?limit=1')).json.data[0].id;
    const marked = await call(t.app, 'POST', '/api/v1/notifications/read', { headers: user.auth, body: { ids: [first] } });
    expect(marked.json.data.marked).toBe(1);
    const unread = await list(user, '?unread=true');
    expect(unread.json.data).toHaveLength(4);
    expect(unread.json.meta.unreadCount).toBe(4);

    expect((await call(t.app, 'POST', '/api/v1/notifications/read', { headers: user.auth, body: { all: true } })).json.data.marked).toBe(4);
    expect((await list(user)).json.meta.unreadCount).toBe(0);
  });

  it('never shows or marks another user\u2019s notifications', async () => {
    const [owner, other] = [await newUser(t.app), await newUser(t.app)];
    const row = await t.ctx.db
      .insertInto('notifications')
      .values({ event_id: `test:${owner.id}`, recipient_id: owner.id, type: 'stream_live', actor_id: null, entity_type: 'stream', entity_id: 's' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect((await list(other)).json.data).toEqual([]);
    const res = await call(t.app, 'POST', '/api/v1/notifications/read', { headers: other.auth, body: { ids: [row.id] } });
    expect(res.json.data.marked).toBe(0);
    expect((await list(owner, '?unread=true')).json.data).toHaveLength(1);
  });

  it('marks read by ids or all only the caller\u2019s unread ones, and read ones leave the unread view', async () => {
    const [user, other] = [await newUser(t.app), await newUser(t.app)];
    const [mine, theirs] = [await insertNotifications(t.ctx.db, user.id, 3), await insertNotifications(t.ctx.db, other.id, 2)];
    const byIds = await call(t.app, 'POST', '/api/v1/notifications/read', { headers: user.auth, body: { ids: [mine[0], theirs[0]] } });
    expect(byIds.json.data.marked).toBe(1);
    const all = await call(t.app, 'POST', '/api/v1/notifications/read', { headers: user.auth, body: { all: true } });
    expect(all.json.data.marked).toBe(2); // the two still unread; the one read before is not marked again
    const listed = await list(user);
    expect(listed.json.data.map((n: { readAt: string | null }) => n.readAt)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
    expect(listed.json.meta.unreadCount).toBe(0);
    expect((await list(user, '?unread=true')).json.data).toEqual([]);
    const untouched = await list(other, '?unread=true');
    expect(untouched.json.data.map((n: { id: string }) => n.id).sort()).toEqual([...theirs].sort());
    expect(untouched.json.meta.unreadCount).toBe(2);
  });

  it('reads and changes settings per type, with defaults on', async () => {
    const user = await newUser(t.app);
    const initial = await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: user.auth });
    expect(initial.json.data).toEqual({
      stream_live: { inApp: true, email: 'off' },
      stream_scheduled: { inApp: true, email: 'off' },
      video_published: { inApp: true, email: 'daily' },
      new_follower: { inApp: true, email: 'daily' },
      tip_received: { inApp: true, email: 'instant' },
      payout_processed: { inApp: true, email: 'instant' },
      comment_received: { inApp: true, email: 'off' },
      comment_reply: { inApp: true, email: 'daily' },
      subscription_received: { inApp: true, email: 'instant' },
      subscription_gifted: { inApp: true, email: 'instant' },
    });
    const changed = await call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: user.auth, body: { new_follower: { inApp: false } } });
    expect(changed.json.data.new_follower).toEqual({ inApp: false, email: 'daily' });
    expect(changed.json.data.stream_live).toEqual({ inApp: true, email: 'off' });
    const unknown = await call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: user.auth, body: { spam: { inApp: true } } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('validation_failed');
    const notBoolean = await call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: user.auth, body: { stream_live: { inApp: 'no' } } });
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.json.error.details.map((d: { field: string }) => d.field)).toEqual(['stream_live.inApp']);
    // Stored per user: reading again gives the change back, and nobody else's settings moved.
    expect((await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: user.auth })).json.data).toEqual({ ...initial.json.data, new_follower: { inApp: false, email: 'daily' } });
    const other = await newUser(t.app);
    expect((await call(t.app, 'GET', '/api/v1/notifications/settings', { headers: other.auth })).json.data).toEqual(initial.json.data);
    const back = await call(t.app, 'PUT', '/api/v1/notifications/settings', { headers: user.auth, body: { new_follower: { inApp: true } } });
    expect(back.json.data).toEqual(initial.json.data);
  });

  it('rejects bad input and anonymous callers', async () => {
    const user = await newUser(t.app);
    expect((await call(t.app, 'GET', '/api/v1/notifications')).status).toBe(401);
    for (const body of [{}, { ids: [] }, { ids: ['not-a-uuid'] }, { all: false }, { ids: [crypto.randomUUID()], all: true }]) {
      const res = await call(t.app, 'POST', '/api/v1/notifications/read', { headers: user.auth, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});
