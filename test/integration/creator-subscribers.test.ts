import { beforeAll, describe, expect, it } from 'vitest';
import { calendarMonthUtc } from '../../lib/subscriptions/stats.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertSubscription } from '../support/subscriptions.ts';

// A creator's subscribers (README "Subscriptions"): counts per tier, this month's churn, and
// the paged list of perk holders with their months; creators only.

const t = useTestApp();
let owner: TestUser;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  owner = await newUser(t.app);
  await setRole(t.ctx.db, owner.id, 'creator');
});

const users = (n: number) => Promise.all(Array.from({ length: n }, () => newUser(t.app)));

describe('GET /creators/me/subscribers', () => {
  it('counts perk holders per tier and this month’s starts, ends and lapses', async () => {
    const [a, b, c, d, e, f, g, h] = await users(8);
    const lastMonth = new Date(calendarMonthUtc(new Date()).start.getTime() - DAY_MS);
    await t.ctx.db.insertInto('subscription_tier_names').values({ channel_id: owner.id, tier: 3, name: 'Patrons' }).execute();
    // Started this month (first period paid a minute ago): tier 1 twice (one a gift), tier 3 once in grace.
    await insertSubscription(t.ctx.db, { subscriberId: a!.id, channelId: owner.id, tier: 1, periods: 1 });
    await insertSubscription(t.ctx.db, { subscriberId: b!.id, channelId: owner.id, tier: 1, periods: 1, giverId: h!.id });
    await insertSubscription(t.ctx.db, { subscriberId: c!.id, channelId: owner.id, tier: 3, status: 'past_due', periods: 1 });
    // Started months ago, still subscribed: counted, not started this month.
    await insertSubscription(t.ctx.db, { subscriberId: d!.id, channelId: owner.id, tier: 1, periods: 4 });
    // Lapsed and ended this month, ended last month, and a checkout that never got paid.
    await insertSubscription(t.ctx.db, { subscriberId: e!.id, channelId: owner.id, tier: 2, status: 'lapsed', periods: 3 });
    await insertSubscription(t.ctx.db, { subscriberId: f!.id, channelId: owner.id, tier: 2, status: 'ended', periods: 2 });
    await insertSubscription(t.ctx.db, { subscriberId: g!.id, channelId: owner.id, tier: 2, status: 'ended', periods: 2, endedAt: lastMonth });
    await insertSubscription(t.ctx.db, { subscriberId: h!.id, channelId: owner.id, tier: 2, status: 'ended', periods: 0, endedReason: 'incomplete_expired' });
    await insertSubscription(t.ctx.db, { subscriberId: g!.id, channelId: owner.id, tier: 2, status: 'incomplete' });
    // Another channel's subscribers are not counted.
    const other = await newUser(t.app);
    await insertSubscription(t.ctx.db, { subscriberId: a!.id, channelId: other.id, tier: 2 });

    const res = await call(t.app, 'GET', '/api/v1/creators/me/subscribers', { headers: owner.auth });
    expect(res.status, res.text).toBe(200);
    expect(res.json.data).toEqual({
      total: 4,
      tiers: [
        { tier: 1, name: 'Tier 1', count: 3 },
        { tier: 2, name: 'Tier 2', count: 0 },
        { tier: 3, name: 'Patrons', count: 1 },
      ],
      churn: { month: calendarMonthUtc(new Date()).month, started: 3, ended: 1, lapsed: 1 },
    });
  });

  it('lists perk holders newest first, with months subscribed, paged', async () => {
    const channel = await newUser(t.app);
    await setRole(t.ctx.db, channel.id, 'creator');
    const [a, b, c, giver] = await users(4);
    const now = Date.now();
    await insertSubscription(t.ctx.db, { subscriberId: a!.id, channelId: channel.id, status: 'ended', periods: 2, createdAt: new Date(now - 90 * DAY_MS) });
    await insertSubscription(t.ctx.db, { subscriberId: a!.id, channelId: channel.id, tier: 2, periods: 1, createdAt: new Date(now - 3000) });
    await insertSubscription(t.ctx.db, { subscriberId: b!.id, channelId: channel.id, status: 'past_due', periods: 5, createdAt: new Date(now - 2000) });
    await insertSubscription(t.ctx.db, { subscriberId: c!.id, channelId: channel.id, tier: 3, periods: 1, giverId: giver!.id, createdAt: new Date(now - 1000) });
    await insertSubscription(t.ctx.db, { subscriberId: giver!.id, channelId: channel.id, status: 'lapsed', periods: 1 });

    const first = await call(t.app, 'GET', '/api/v1/creators/me/subscribers/list?limit=2', { headers: channel.auth });
    expect(first.status, first.text).toBe(200);
    const second = await call(t.app, 'GET', `/api/v1/creators/me/subscribers/list?limit=2&cursor=${first.json.meta.nextCursor}`, { headers: channel.auth });
    expect(second.json.meta.nextCursor).toBeNull();
    const rows = [...first.json.data, ...second.json.data];
    expect(rows.map((r: any) => [r.user.username, r.tier, r.monthsSubscribed, r.status, r.gifted])).toEqual([
      [c!.username, 3, 1, 'active', true],
      [b!.username, 1, 5, 'past_due', false],
      [a!.username, 2, 3, 'active', false],
    ]);
    expect(rows[0]).toEqual({ user: { id: c!.id, username: c!.username, displayName: expect.any(String) }, tier: 3, monthsSubscribed: 1, status: 'active', since: expect.any(String), gifted: true });
    expect(Date.parse(rows[0].since)).toBeLessThan(now);
  });

  it('is for creators only', async () => {
    const viewer = await newUser(t.app);
    for (const path of ['/api/v1/creators/me/subscribers', '/api/v1/creators/me/subscribers/list']) {
      const anonymous = await call(t.app, 'GET', path);
      expect([anonymous.status, anonymous.json.error.code]).toEqual([401, 'unauthorized']);
      const refused = await call(t.app, 'GET', path, { headers: viewer.auth });
      expect([refused.status, refused.json.error.code]).toEqual([403, 'forbidden']);
    }
    expect((await call(t.app, 'GET', '/api/v1/creators/me/subscribers/list?cursor=nonsense', { headers: owner.auth })).status).toBe(400);
    // A new creator has none yet.
    const fresh = await newUser(t.app);
    await setRole(t.ctx.db, fresh.id, 'creator');
    const empty = await call(t.app, 'GET', '/api/v1/creators/me/subscribers', { headers: fresh.auth });
    expect(empty.json.data).toMatchObject({ total: 0, churn: { started: 0, ended: 0, lapsed: 0 } });
  });
});
