import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { recomputeBroadcasts, recomputeBucket } from '../../activities/analytics.ts';
import { MAX_BROADCASTS } from '../../api/creators/analytics.ts';
import { archiveChatEvents, type ArchivableEvent } from '../../lib/chat-archive.ts';
import { accountCode, balancesOf, userAccount } from '../../lib/ledger/index.ts';
import type { AnalyticsGranularity } from '../../lib/schema.ts';
import type WebSocket from 'ws';
import { recordViewerSample } from '../../realtime/viewers.ts';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { connectSocket, insertStream, joinRoom, startGateways, until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { fundWallet, giftBySlug } from '../support/money.ts';
import { insertVideo } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';

// Creator analytics (README, "Creator analytics"): activity through the real routes and, for
// exact past hours, source rows written as those routes write them; the rollup recomputes
// buckets from them, twice, with identical results; hour and day answers; zero buckets; range
// validation; roles.

const t = useTestApp();
const HOUR = 3_600_000;
let creator: TestUser;
let other: TestUser;
let viewer: TestUser;
/** Yesterday 00:00 UTC: the past day whose rows this file writes directly. */
let day: Date;
const at = (hours: number, minutes = 0) => new Date(day.getTime() + hours * HOUR + minutes * 60_000);

beforeAll(async () => {
  [creator, other, viewer] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
  await setRole(t.ctx.db, creator.id, 'creator');
  await setRole(t.ctx.db, other.id, 'creator');
  const today = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR;
  day = new Date(today - 24 * HOUR);
});

const currency = () => t.ctx.config.money.settlementCurrency;

async function analytics(user: TestUser, query: Record<string, string>) {
  const res = await call(t.app, 'GET', `/api/v1/creators/me/analytics?${new URLSearchParams(query)}`, { headers: user.auth });
  expect(res.status, res.text).toBe(200);
  return res.json.data;
}

const recompute = (granularity: AnalyticsGranularity, start: Date) => recomputeBucket(t.ctx.db, { granularity, start, currency: currency(), computedAt: new Date() });

const zero = { views: 0, uniqueViewers: 0, watchTimeSeconds: 0, averageViewDurationSeconds: 0, likes: 0, comments: 0, newFollowers: 0 };

describe('creator analytics', { timeout: 120_000 }, () => {
  it('counts a past day per hour and per day from the source rows, recomputed twice to the same numbers, zeros where nothing happened', async () => {
    const video = await insertVideo(t.ctx.db, creator.id, { durationSeconds: 600 });
    const otherVideo = await insertVideo(t.ctx.db, other.id, { durationSeconds: 600 });
    const [fan1, fan2, fan3, fan4] = await insertBulkUsers(t.ctx.db, 4);
    const { db } = t.ctx;
    // Views: x at 10:10 and 10:50 (two windows apart), y at 11:10; one of another creator's.
    await db
      .insertInto('video_views')
      .values([
        { video_id: video, viewer: 'd:viewer-x', viewed_at: at(10, 10), rolled_up: true },
        { video_id: video, viewer: 'd:viewer-x', viewed_at: at(10, 50), rolled_up: true },
        { video_id: video, viewer: 'd:viewer-y', viewed_at: at(11, 10), rolled_up: true },
        { video_id: otherVideo, viewer: 'd:viewer-y', viewed_at: at(11, 10), rolled_up: true },
      ])
      .execute();
    await db
      .insertInto('watch_time')
      .values([
        { video_id: video, viewer: 'd:viewer-x', hour_start: at(10), seconds: 120, last_beat_at: at(10, 52), last_position: 120 },
        { video_id: video, viewer: 'd:viewer-x', hour_start: at(11), seconds: 10, last_beat_at: at(11, 0), last_position: 130 },
        { video_id: video, viewer: 'd:viewer-y', hour_start: at(11), seconds: 30.4, last_beat_at: at(11, 11), last_position: 30 },
      ])
      .execute();
    await db
      .insertInto('video_likes')
      .values([
        { video_id: video, user_id: fan1!, created_at: at(10, 15) },
        { video_id: video, user_id: fan2!, created_at: at(10, 45) },
        { video_id: otherVideo, user_id: fan1!, created_at: at(10, 45) },
      ])
      .execute();
    const stream = await insertStream(t.ctx, creator.id, 'ended');
    await db.insertInto('stream_likes').values({ stream_id: stream, user_id: fan3!, created_at: at(11, 5) }).execute();
    await db
      .insertInto('comments')
      .values([
        { video_id: video, author_id: fan1!, depth: 0, body: 'great', created_at: at(11, 30) },
        { video_id: video, author_id: fan2!, depth: 0, body: null, created_at: at(11, 31), deleted_at: at(11, 40) },
        { video_id: video, author_id: fan3!, depth: 0, body: 'hidden', created_at: at(11, 32), moderation_hidden_at: at(11, 33) },
      ])
      .execute();
    await db
      .insertInto('follows')
      .values([
        { follower_id: fan1!, followee_id: creator.id, created_at: at(10, 20) },
        { follower_id: fan4!, followee_id: other.id, created_at: at(10, 20) },
      ])
      .execute();

    const hours = [at(9), at(10), at(11), at(12)];
    const run = async () => {
      for (const h of hours) await recompute('hour', h);
      await recompute('day', day);
      return {
        hourly: await analytics(creator, { granularity: 'hour', from: at(9).toISOString(), to: at(13).toISOString() }),
        daily: await analytics(creator, { granularity: 'day', from: day.toISOString().slice(0, 10), to: at(24).toISOString().slice(0, 10) }),
      };
    };
    const first = await run();
    const earnings = { currency: currency(), amount: 0 };
    expect(first.hourly.series).toEqual([
      { bucketStart: at(9).toISOString(), ...zero, earnings },
      { bucketStart: at(10).toISOString(), ...zero, views: 2, uniqueViewers: 1, watchTimeSeconds: 120, averageViewDurationSeconds: 60, likes: 2, newFollowers: 1, earnings },
      { bucketStart: at(11).toISOString(), ...zero, views: 1, uniqueViewers: 2, watchTimeSeconds: 40, averageViewDurationSeconds: 40, likes: 1, comments: 1, earnings },
      { bucketStart: at(12).toISOString(), ...zero, earnings },
    ]);
    expect(first.hourly.totals).toEqual({ views: 3, watchTimeSeconds: 160, averageViewDurationSeconds: 53, likes: 3, comments: 1, newFollowers: 1, earnings });
    expect(first.hourly).toMatchObject({ granularity: 'hour', from: at(9).toISOString(), to: at(13).toISOString(), computedAt: expect.any(String) });
    // A day's unique viewers are its distinct viewers (x and y), not the sum of its hours' (1 + 2).
    expect(first.daily.series).toEqual([
      { bucketStart: day.toISOString(), ...zero, views: 3, uniqueViewers: 2, watchTimeSeconds: 160, averageViewDurationSeconds: 53, likes: 3, comments: 1, newFollowers: 1, earnings },
    ]);

    const second = await run();
    expect(second.hourly.series).toEqual(first.hourly.series);
    expect(second.daily.series).toEqual(first.daily.series);
    expect(second.hourly.totals).toEqual(first.hourly.totals);

    // Activity undone before a recompute leaves the bucket (an unlike; the follow withdrawn).
    await db.deleteFrom('video_likes').where('video_id', '=', video).where('user_id', '=', fan2!).execute();
    await db.deleteFrom('follows').where('follower_id', '=', fan1!).where('followee_id', '=', creator.id).execute();
    const third = await run();
    expect(third.hourly.series[1]).toMatchObject({ likes: 1, newFollowers: 0, views: 2 });

    // The other creator sees their own numbers only.
    const theirs = await analytics(other, { granularity: 'hour', from: at(10).toISOString(), to: at(12).toISOString() });
    expect(theirs.series.map((p: { views: number; likes: number; newFollowers: number }) => [p.views, p.likes, p.newFollowers])).toEqual([
      [0, 1, 1],
      [1, 0, 0],
    ]);
  });

  it('adds watch time from heartbeats: time since the viewer’s previous one, at most what playback moved and 60 s', async () => {
    const video = await insertVideo(t.ctx.db, creator.id, { durationSeconds: 600 });
    const beat = async (positionSeconds: number, user?: TestUser, deviceId?: string) => {
      const res = await call(t.app, 'POST', `/api/v1/videos/${video}/views`, { body: { positionSeconds, ...(deviceId ? { deviceId } : {}) }, headers: user?.auth ?? {} });
      expect(res.status, res.text).toBe(200);
    };
    /** Moves the viewer's latest heartbeat `seconds` into the past: time passing, without waiting. */
    const age = (viewerKey: string, seconds: number) =>
      sql`update watch_time set last_beat_at = last_beat_at - make_interval(secs => ${seconds})
        where video_id = ${video} and viewer = ${viewerKey} and hour_start = (select max(hour_start) from watch_time where video_id = ${video} and viewer = ${viewerKey})`.execute(t.ctx.db);
    const watched = async () =>
      Number((await t.ctx.db.selectFrom('watch_time').select((eb) => eb.fn.sum<number>('seconds').as('s')).where('video_id', '=', video).executeTakeFirstOrThrow()).s);

    await beat(0, viewer);
    await age(`u:${viewer.id}`, 20);
    await beat(15, viewer); // 20 s passed, playback moved 15: 15
    await age(`u:${viewer.id}`, 200);
    await beat(115, viewer); // 200 s passed, moved 100: the 60 s cap
    await age(`u:${viewer.id}`, 100);
    await beat(115, viewer); // paused: nothing
    expect(await watched()).toBe(75);

    // A viewer's previous heartbeat in the previous hour carries over into the new hour's row.
    const device = `dev-${randomUUID().slice(0, 12)}`;
    const { rows } = await sql<{ hour: Date }>`select date_trunc('hour', now(), 'UTC') - interval '1 hour' as hour`.execute(t.ctx.db);
    await sql`insert into watch_time (video_id, viewer, hour_start, seconds, last_beat_at, last_position)
      values (${video}, ${`d:${device}`}, ${rows[0]!.hour}, 0, now() - interval '12 seconds', 40)`.execute(t.ctx.db);
    await beat(50, undefined, device); // 12 s passed, moved 10
    expect(await watched()).toBe(85);

    // The rollup's current hours (and day) hold it, with the two views: summed over the hours
    // around now, so a run that crosses an hour boundary still adds up.
    const now = Date.now();
    const currentHour = Math.floor(now / HOUR) * HOUR;
    for (const h of [currentHour - HOUR, currentHour]) await recompute('hour', new Date(h));
    const result = await analytics(creator, { granularity: 'hour', from: new Date(currentHour - HOUR).toISOString(), to: new Date(currentHour + 2 * HOUR).toISOString() });
    expect(result.totals).toMatchObject({ views: 2, watchTimeSeconds: 85, averageViewDurationSeconds: 43 });
  });

  it('counts a gift’s earnings and a stream like, through the workflow the analytics-rollup Schedule starts', async () => {
    const stream = await insertStream(t.ctx, creator.id, 'live');
    await t.ctx.db.updateTable('streams').set({ started_at: new Date() }).where('id', '=', stream).execute();
    const sender = await newUser(t.app);
    await fundWallet(t.ctx, sender.id, 100n);
    const pending = userAccount('earnings_pending', creator.id, currency());
    const before = (await balancesOf(t.ctx.db, [pending])).get(accountCode(pending)) ?? 0n;
    const rose = await giftBySlug(t.ctx.db, 'rose');
    const sent = await call(t.app, 'POST', `/api/v1/streams/${stream}/gifts`, {
      body: { giftId: rose.id, quantity: 2 },
      headers: { ...sender.auth, 'idempotency-key': randomUUID() },
    });
    expect(sent.status, sent.text).toBe(201);
    const earned = Number((await balancesOf(t.ctx.db, [pending])).get(accountCode(pending))! - before);
    expect(earned).toBeGreaterThan(0);
    // A like of the stream, through the route.
    expect((await call(t.app, 'PUT', `/api/v1/streams/${stream}/like`, { headers: viewer.auth })).status).toBe(200);

    const result = await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute('analyticsRollupWorkflow', {
        taskQueue: t.ctx.config.temporal.taskQueue,
        workflowId: `analytics-rollup/test-${randomUUID()}`,
        args: [{ currency: currency() }],
      }),
    );
    expect(result.hours.length).toBeGreaterThanOrEqual(2);
    const now = Date.now();
    const today = new Date(Math.floor(now / (24 * HOUR)) * 24 * HOUR);
    const data = await analytics(creator, { granularity: 'day', from: new Date(today.getTime() - 24 * HOUR).toISOString(), to: new Date(today.getTime() + 24 * HOUR).toISOString() });
    expect(data.totals.earnings).toEqual({ currency: currency(), amount: earned });
    expect(data.totals.likes).toBeGreaterThanOrEqual(1);
    expect(data.broadcasts.find((b: { streamId: string }) => b.streamId === stream)).toMatchObject({ status: 'live', likes: 1, endedAt: null });
  });

  it('lists broadcasts in the range with peak, average concurrent viewers over their minutes, unique viewers and chat messages', async () => {
    const stream = await insertStream(t.ctx, creator.id, 'ended');
    await t.ctx.db.updateTable('streams').set({ started_at: at(14), ended_at: at(14, 10), peak_viewers: 6, unique_viewers: 8 }).where('id', '=', stream).execute();
    // Samples as the gateways write them: minutes 0, 1 and 5 had viewers; the other seven none.
    await t.ctx.db
      .insertInto('stream_viewer_samples')
      .values([
        { stream_id: stream, minute_start: at(14, 0), viewers: 4 },
        { stream_id: stream, minute_start: at(14, 1), viewers: 6 },
        { stream_id: stream, minute_start: at(14, 5), viewers: 5 },
      ])
      .execute();
    const storedAt = at(14, 3);
    const message = (seq: number): ArchivableEvent => ({ kind: 'message', streamId: stream, seq, userId: randomUUID(), username: `u${seq}`, text: `hi ${seq}`, sentAt: storedAt.toISOString(), storedAt });
    await archiveChatEvents(t.ctx.mongo, [message(1), message(2), message(3)]);
    await archiveChatEvents(t.ctx.mongo, [{ kind: 'deleted', streamId: stream, messageId: '2', deletedBy: randomUUID(), deletedAt: storedAt.toISOString(), seq: 4, storedAt }]);
    const before = await analytics(creator, { granularity: 'hour', from: at(14).toISOString(), to: at(15).toISOString() });
    expect(before.broadcasts).toEqual([expect.objectContaining({ streamId: stream, averageViewers: 0, chatMessages: 0 })]);

    for (let i = 0; i < 2; i++) await recomputeBroadcasts(t.ctx.db, t.ctx.mongo, { since: at(14), now: new Date() });
    const { broadcasts } = await analytics(creator, { granularity: 'hour', from: at(14).toISOString(), to: at(15).toISOString() });
    expect(broadcasts).toEqual([
      { streamId: stream, title: 'Gateway test', status: 'ended', startedAt: at(14).toISOString(), endedAt: at(14, 10).toISOString(), peakViewers: 6, averageViewers: 1.5, uniqueViewers: 8, chatMessages: 3, likes: 0 },
    ]);
    // Outside the range it is not listed.
    expect((await analytics(creator, { granularity: 'hour', from: at(15).toISOString(), to: at(16).toISOString() })).broadcasts).toEqual([]);
    expect(MAX_BROADCASTS).toBe(100);
  });

  it('samples a live stream’s viewers once a minute, first writer wins, and never an ended one', async () => {
    const live = await insertStream(t.ctx, creator.id, 'live');
    const ended = await insertStream(t.ctx, creator.id, 'ended');
    await recordViewerSample(t.ctx.db, live, 7);
    await recordViewerSample(t.ctx.db, live, 9);
    await recordViewerSample(t.ctx.db, ended, 3);
    const samples = await t.ctx.db.selectFrom('stream_viewer_samples').select(['stream_id', 'viewers']).where('stream_id', 'in', [live, ended]).execute();
    // Two calls may straddle a minute boundary; the first of each minute stays.
    expect(samples.every((s) => s.stream_id === live)).toBe(true);
    expect(samples[0]).toEqual({ stream_id: live, viewers: 7 });
  });

  it('gets its samples from the realtime gateways that count a live stream’s viewers', async () => {
    const live = await insertStream(t.ctx, creator.id, 'live');
    const { gateways, urls } = await startGateways(t.ctx, 1, { viewerCountIntervalMs: 100 });
    const opened: WebSocket[] = [];
    try {
      await joinRoom(await connectSocket(urls[0]!, '', opened), live);
      const samples = () => t.ctx.db.selectFrom('stream_viewer_samples').select('viewers').where('stream_id', '=', live).execute();
      await until(async () => (await samples()).length > 0, 'a viewer sample of the live stream');
      expect((await samples())[0]).toEqual({ viewers: 1 });
    } finally {
      for (const socket of opened) socket.terminate();
      for (const gateway of gateways) await gateway.close();
    }
  });

  it('validates the range and granularity with the documented error shape', async () => {
    const bad = async (query: Record<string, string>) => {
      const res = await call(t.app, 'GET', `/api/v1/creators/me/analytics?${new URLSearchParams(query)}`, { headers: creator.auth });
      expect(res.status, res.text).toBe(400);
      expect(res.json).toMatchObject({ success: false, error: { code: 'validation_failed' } });
      return res.json.error;
    };
    expect((await bad({ from: '2026-12-02', to: '2026-12-01' })).message).toBe('`from` must be before `to`');
    expect((await bad({ from: '2026-12-01', to: '2026-12-01' })).message).toBe('`from` must be before `to`');
    expect((await bad({ granularity: 'hour', from: '2026-10-01', to: '2026-11-02' })).message).toBe('At most 744 hour buckets per request (31 days); this range has 768');
    expect((await bad({ granularity: 'day', from: '2025-01-01', to: '2026-01-03' })).message).toMatch(/^At most 366 day buckets per request/);
    expect((await bad({ granularity: 'week' })).details).toEqual([expect.objectContaining({ field: 'granularity' })]);
    expect((await bad({ from: 'yesterday' })).details).toEqual([expect.objectContaining({ field: 'from' })]);
    // 31 days of hours and 366 days are fine.
    expect((await analytics(creator, { granularity: 'hour', from: '2026-10-01', to: '2026-11-01' })).series).toHaveLength(744);
    expect((await analytics(creator, { granularity: 'day', from: '2025-01-01', to: '2026-01-02' })).series).toHaveLength(366);
  });

  it('is for creators, about themselves only', async () => {
    const res = await call(t.app, 'GET', '/api/v1/creators/me/analytics');
    expect(res.status).toBe(401);
    const forbidden = await call(t.app, 'GET', '/api/v1/creators/me/analytics', { headers: viewer.auth });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe('forbidden');
    // The default range: the last 30 days, today included.
    const mine = await analytics(other, {});
    expect(mine.series).toHaveLength(30);
    expect(mine.granularity).toBe('day');
    expect(mine.broadcasts).toEqual([]);
  });
});
