import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { foldPendingViews } from '../../activities/views.ts';
import { createApp, type App } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import { parseConfig, processEnv, type ViewConfig } from '../../lib/config.ts';
import { provisionPlatform } from '../../scripts/stack/provision.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { testResources } from '../support/test-environment.ts';
import { insertVideo } from '../support/videos.ts';
import { withWorkers } from '../support/workers.ts';
import { deleteAllSchedules } from '../support/schedules.ts';

// Views (one per viewer per video per window, counted exactly through batched rollups),
// watch history and resume positions (README, "Views, watch history and resume").

const t = useTestApp();

/** An app over this file's context with other view settings (each app has its own in-memory limits). */
const appWith = (views: Partial<ViewConfig>): App => createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, views: { ...t.ctx.config.views, ...views } } });

const device = () => `dev-${randomBytes(8).toString('hex')}`;

function beat(app: App, videoId: string, body: Record<string, unknown>, user?: TestUser) {
  return call(app, 'POST', `/api/v1/videos/${videoId}/views`, { body, headers: user?.auth ?? {} });
}

async function counted(app: App, videoId: string, body: Record<string, unknown>, user?: TestUser): Promise<boolean> {
  const res = await beat(app, videoId, body, user);
  expect(res.status, res.text).toBe(200);
  return res.json.data.counted as boolean;
}

const video = async (id: string, user?: TestUser) => (await call(t.app, 'GET', `/api/v1/videos/${id}`, { headers: user?.auth ?? {} })).json.data;

async function stored(videoId: string) {
  const row = await t.ctx.db.selectFrom('videos').select('view_count').where('id', '=', videoId).executeTakeFirstOrThrow();
  const views = await t.ctx.db
    .selectFrom('video_views')
    .select((eb) => [eb.fn.countAll<string>().as('all'), eb.fn.countAll<string>().filterWhere('rolled_up', '=', false).as('pending')])
    .where('video_id', '=', videoId)
    .executeTakeFirstOrThrow();
  return { viewCount: row.view_count, rows: Number(views.all), pending: Number(views.pending) };
}

async function rollUpAll(): Promise<number> {
  let total = 0;
  for (let folded = -1; folded !== 0; total += folded) folded = await foldPendingViews(t.ctx.db);
  return total;
}

const history = async (user: TestUser, query = '') => call(t.app, 'GET', `/api/v1/users/me/history${query}`, { headers: user.auth });

describe('views', () => {
  it('has the README defaults: a 300 s window, 12 heartbeats a minute per viewer, 120 anonymous ones per address', () => {
    const env = { ...processEnv(), VIEW_WINDOW_SECONDS: undefined, RATE_LIMIT_VIEW_HEARTBEATS_PER_MINUTE: undefined, RATE_LIMIT_ANONYMOUS_VIEW_HEARTBEATS_PER_ADDRESS_PER_MINUTE: undefined };
    expect(parseConfig(env).views).toEqual({ windowSeconds: 300, heartbeatsPerMinute: 12, anonymousHeartbeatsPerAddressPerMinute: 120 });
  });

  it('counts a viewer once per window: signed in by user, anonymous by device id, else by address', async () => {
    const owner = await newUser(t.app);
    const id = await insertVideo(t.ctx.db, owner.id, { durationSeconds: 100 });
    const [alice, bob] = [await newUser(t.app), await newUser(t.app)];

    // A signed-in viewer: the first heartbeat counts, the next ones in the window do not,
    // whatever device id they carry.
    expect(await counted(t.app, id, { positionSeconds: 0 }, alice)).toBe(true);
    expect(await counted(t.app, id, { positionSeconds: 15, deviceId: device() }, alice)).toBe(false);
    expect(await counted(t.app, id, { positionSeconds: 30 }, alice)).toBe(false);
    expect(await counted(t.app, id, { positionSeconds: 1 }, bob)).toBe(true);
    // Anonymous players with their own device ids count apart; again within the window: no.
    const [d1, d2] = [device(), device()];
    expect(await counted(t.app, id, { positionSeconds: 0, deviceId: d1 })).toBe(true);
    expect(await counted(t.app, id, { positionSeconds: 0, deviceId: d2 })).toBe(true);
    expect(await counted(t.app, id, { positionSeconds: 20, deviceId: d1 })).toBe(false);
    // No device id: the address is the viewer (in-process requests all share one).
    expect(await counted(t.app, id, { positionSeconds: 0 })).toBe(true);
    expect(await counted(t.app, id, { positionSeconds: 5 })).toBe(false);
    expect((await video(id)).viewCount).toBe(5);
    expect(await t.ctx.db.selectFrom('video_viewers').select('viewer').where('video_id', '=', id).orderBy('viewer').execute()).toEqual(
      [`a:${'unknown'}`, `d:${d1}`, `d:${d2}`, `u:${alice.id}`, `u:${bob.id}`].sort().map((viewer) => ({ viewer })),
    );

    // The boundary, on the database clock: 299 s after the last counted view is inside the window, 300 s is not.
    const age = (seconds: number) =>
      sql`update video_viewers set last_counted_at = now() - make_interval(secs => ${seconds}) where video_id = ${id} and viewer = ${`u:${alice.id}`}`.execute(t.ctx.db);
    await age(299);
    expect(await counted(t.app, id, { positionSeconds: 40 }, alice)).toBe(false);
    await age(300);
    expect(await counted(t.app, id, { positionSeconds: 40 }, alice)).toBe(true);
    expect(await counted(t.app, id, { positionSeconds: 41 }, alice)).toBe(false);
    expect((await video(id)).viewCount).toBe(6);
  });

  it('counts the same viewer again once a short window (VIEW_WINDOW_SECONDS) has passed', async () => {
    const app = appWith({ windowSeconds: 2 });
    const owner = await newUser(app);
    const id = await insertVideo(t.ctx.db, owner.id);
    const d = device();
    expect(await counted(app, id, { positionSeconds: 0, deviceId: d })).toBe(true);
    expect(await counted(app, id, { positionSeconds: 1, deviceId: d })).toBe(false);
    expect((await video(id)).viewCount).toBe(1);
    await sleep(2100);
    expect(await counted(app, id, { positionSeconds: 2, deviceId: d })).toBe(true);
    expect(await counted(app, id, { positionSeconds: 3, deviceId: d })).toBe(false);
    expect((await video(id)).viewCount).toBe(2);
  });

  it('counts exactly under concurrent heartbeats of many viewers, with rollups racing them and run again', async () => {
    const app = appWith({ heartbeatsPerMinute: 100, anonymousHeartbeatsPerAddressPerMinute: 10_000 });
    const owner = await newUser(app);
    const [first, second] = [await insertVideo(t.ctx.db, owner.id), await insertVideo(t.ctx.db, owner.id)];
    const users = await Promise.all(Array.from({ length: 20 }, () => newUser(app)));
    const devices = Array.from({ length: 30 }, device);
    // Every viewer sends 5 heartbeats to each video at once (250 per video), while 6 rollups run.
    const sends = [first, second].flatMap((id) => [
      ...users.flatMap((u) => Array.from({ length: 5 }, (_, i) => () => beat(app, id, { positionSeconds: i }, u))),
      ...devices.flatMap((d) => Array.from({ length: 5 }, (_, i) => () => beat(app, id, { positionSeconds: i, deviceId: d }))),
    ]);
    const [answers] = await Promise.all([Promise.all(sends.map((send) => send())), Promise.all(Array.from({ length: 6 }, () => rollUpAll()))]);
    expect(answers.map((a) => a.status)).toEqual(Array(500).fill(200));
    // One counted heartbeat per viewer and video: 50 each.
    expect(answers.filter((a) => a.json.data.counted).length).toBe(100);
    for (const id of [first, second]) {
      expect((await video(id)).viewCount).toBe(50);
      const before = await stored(id);
      expect(before.rows).toBe(50);
      expect(before.viewCount + before.pending).toBe(50);
    }

    // Rolled up: everything is in the counter; rolling up again changes nothing.
    await rollUpAll();
    for (const id of [first, second]) expect(await stored(id)).toEqual({ viewCount: 50, rows: 50, pending: 0 });
    expect(await rollUpAll()).toBe(0);
    for (const id of [first, second]) {
      expect(await stored(id)).toEqual({ viewCount: 50, rows: 50, pending: 0 });
      expect((await video(id)).viewCount).toBe(50);
    }
    // Lists show the rolled-up count.
    const list = await call(app, 'GET', `/api/v1/videos?ownerId=${owner.id}`);
    expect(list.json.data.map((v: { viewCount: number }) => v.viewCount)).toEqual([50, 50]);
  });

  it('rolls up by the viewRollupWorkflow (the views-rollup Schedule runs it), idempotently, forgetting viewers past the window', async () => {
    const owner = await newUser(t.app);
    const id = await insertVideo(t.ctx.db, owner.id);
    for (let i = 0; i < 3; i++) await counted(t.app, id, { positionSeconds: 0, deviceId: device() });
    const expired = device();
    await counted(t.app, id, { positionSeconds: 0, deviceId: expired });
    await sql`update video_viewers set last_counted_at = now() - interval '301 seconds' where viewer = ${`d:${expired}`}`.execute(t.ctx.db);
    const run = () =>
      t.ctx.temporal.client.workflow.execute('viewRollupWorkflow', {
        taskQueue: t.ctx.config.temporal.taskQueue,
        workflowId: `views-rollup/test-${randomUUID()}`,
        args: [{ windowSeconds: 300 }],
      });
    const [once, twice] = await withWorkers(t.ctx, async () => [await run(), await run()], { media: false });
    expect(once.views).toBeGreaterThanOrEqual(4); // other tests' pending views fold too
    expect(once.expiredViewers).toBeGreaterThanOrEqual(1);
    expect(twice).toEqual({ views: 0, expiredViewers: 0 });
    expect(await stored(id)).toEqual({ viewCount: 4, rows: 4, pending: 0 });
    expect((await video(id)).viewCount).toBe(4);
    // Forgotten, that viewer's next heartbeat counts: it was outside the window anyway.
    expect(await t.ctx.db.selectFrom('video_viewers').select('viewer').where('viewer', '=', `d:${expired}`).execute()).toEqual([]);
    expect(await counted(t.app, id, { positionSeconds: 0, deviceId: expired })).toBe(true);
    expect((await video(id)).viewCount).toBe(5);
  });

  it('provisions the views-rollup Schedule (every minute, with VIEW_WINDOW_SECONDS, updated in place), and the trending, live-thumbnails and analytics-rollup ones', async () => {
    // Provisioning makes every Schedule under its fixed id: a namespace of this file's own, so
    // it never touches the one the retention test provisions.
    const namespace = `${testResources.provisioningNamespace}-views`;
    const configWith = (windowSeconds: string | undefined) =>
      parseConfig({
        ...processEnv(),
        DATABASE_URL: t.ctx.config.postgres.url,
        MONGO_DATABASE: t.ctx.config.mongo.database,
        S3_KEY_PREFIX: t.ctx.config.s3.keyPrefix,
        NATS_SUBJECT_PREFIX: t.ctx.config.nats.subjectPrefix,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TASK_QUEUE: t.ctx.config.temporal.taskQueue,
        TEMPORAL_MEDIA_TASK_QUEUE: t.ctx.config.temporal.mediaTaskQueue,
        VIEW_WINDOW_SECONDS: windowSeconds,
      });
    const client = new Client({ connection: t.ctx.temporal.connection, namespace });
    try {
      await provisionPlatform(configWith(undefined), () => {});
      const schedule = await client.schedule.getHandle('views-rollup').describe();
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'viewRollupWorkflow', workflowId: 'views-rollup', args: [{ windowSeconds: 300 }] });
      expect(schedule.spec.intervals?.map((interval) => interval.every)).toEqual([60_000]);
      // README "Trending": recomputed every five minutes with the default half-life and window.
      const trendingSchedule = await client.schedule.getHandle('trending').describe();
      expect(trendingSchedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'trendingWorkflow', workflowId: 'trending', args: [{ halfLifeHours: 24, windowHours: 72 }] });
      expect(trendingSchedule.spec.intervals?.map((interval) => interval.every)).toEqual([300_000]);
      // README "Live thumbnails": every minute, on the media queue, 200 streams a run.
      const thumbnails = await client.schedule.getHandle('live-thumbnails').describe();
      expect(thumbnails.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'liveThumbnailsWorkflow',
        workflowId: 'live-thumbnails',
        args: [{ mediaTaskQueue: t.ctx.config.temporal.mediaTaskQueue, maxStreams: 200 }],
      });
      expect(thumbnails.spec.intervals?.map((interval) => interval.every)).toEqual([60_000]);
      // README "Creator analytics": recomputed every five minutes, earnings in the settlement currency.
      const analyticsSchedule = await client.schedule.getHandle('analytics-rollup').describe();
      expect(analyticsSchedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'analyticsRollupWorkflow', workflowId: 'analytics-rollup', args: [{ currency: 'USD' }] });
      expect(analyticsSchedule.spec.intervals?.map((interval) => interval.every)).toEqual([300_000]);
      await provisionPlatform(configWith('120'), () => {});
      expect((await client.schedule.getHandle('views-rollup').describe()).action).toMatchObject({ args: [{ windowSeconds: 120 }] });
    } finally {
      await deleteAllSchedules(client);
    }
  });

  it('answers resumeAtSeconds to the signed-in viewer: null when unwatched or finished (last 10 s or 5 %)', async () => {
    const owner = await newUser(t.app);
    const [viewer, other] = [await newUser(t.app), await newUser(t.app)];
    const short = await insertVideo(t.ctx.db, owner.id, { durationSeconds: 100 });
    const long = await insertVideo(t.ctx.db, owner.id, { durationSeconds: 1000 });
    expect((await video(short, viewer)).resumeAtSeconds).toBeNull();
    const at = async (id: string, positionSeconds: number) => {
      await counted(t.app, id, { positionSeconds }, viewer);
      return (await video(id, viewer)).resumeAtSeconds;
    };
    // 100 s: finished from 90 s (10 s beats 5 %).
    expect(await at(short, 30.5)).toBe(30.5);
    expect(await at(short, 89.9)).toBe(89.9);
    expect(await at(short, 90)).toBeNull();
    // 1000 s: finished from 950 s (5 % beats 10 s).
    expect(await at(long, 949)).toBe(949);
    expect(await at(long, 950)).toBeNull();
    // Going back counts: the last position is what resumes.
    expect(await at(long, 12)).toBe(12);
    // A position past the end is stored as the end.
    expect(await at(short, 5000)).toBeNull();
    const row = await t.ctx.db.selectFrom('watch_history').select('position_seconds').where('user_id', '=', viewer.id).where('video_id', '=', short).executeTakeFirstOrThrow();
    expect(row.position_seconds).toBe(100);
    // Someone else, and anonymous viewers, have nothing to resume; anonymous heartbeats keep no history.
    expect((await video(long, other)).resumeAtSeconds).toBeNull();
    expect((await video(long)).resumeAtSeconds).toBeNull();
    await counted(t.app, long, { positionSeconds: 300, deviceId: device() });
    expect(await t.ctx.db.selectFrom('watch_history').select('user_id').where('video_id', '=', long).execute()).toEqual([{ user_id: viewer.id }]);
  });

  it('lists history newest watched first with positions, keyset-paged, keeping only videos the viewer may still see', async () => {
    const owner = await newUser(t.app);
    const viewer = await newUser(t.app);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await insertVideo(t.ctx.db, owner.id, { title: `watched ${i}`, durationSeconds: 100 }));
    const own = await insertVideo(t.ctx.db, viewer.id, { title: 'my private one', visibility: 'private', durationSeconds: 100 });
    for (const [i, id] of [...ids, own].entries()) await counted(t.app, id, { positionSeconds: i * 10 }, viewer);

    const first = await history(viewer, '?limit=4');
    expect(first.status, first.text).toBe(200);
    expect(first.json.data.map((h: { video: { title: string }; positionSeconds: number }) => [h.video.title, h.positionSeconds])).toEqual([
      ['my private one', 50],
      ['watched 4', 40],
      ['watched 3', 30],
      ['watched 2', 20],
    ]);
    expect(first.json.data[1]).toMatchObject({ videoId: ids[4], resumeAtSeconds: 40, watchedAt: expect.any(String), video: { id: ids[4], durationSeconds: 100 } });
    const second = await history(viewer, `?limit=4&cursor=${first.json.meta.nextCursor}`);
    expect(second.json.data.map((h: { videoId: string }) => h.videoId)).toEqual([ids[1], ids[0]]);
    expect(second.json.meta.nextCursor).toBeNull();

    // Watching again moves it to the top.
    await counted(t.app, ids[0]!, { positionSeconds: 99 }, viewer);
    expect((await history(viewer, '?limit=1')).json.data[0]).toMatchObject({ videoId: ids[0], positionSeconds: 99, resumeAtSeconds: null });

    // Deleted, hidden, made private or unready: gone from the list (the viewer's own private video stays).
    await t.ctx.db.updateTable('videos').set({ deleted_at: new Date() }).where('id', '=', ids[1]!).execute();
    await t.ctx.db.updateTable('videos').set({ moderation_hidden_at: new Date() }).where('id', '=', ids[2]!).execute();
    await t.ctx.db.updateTable('videos').set({ visibility: 'private' }).where('id', '=', ids[3]!).execute();
    const titles = async (user: TestUser) => (await history(user)).json.data.map((h: { video: { title: string } }) => h.video.title);
    expect(await titles(viewer)).toEqual(['watched 0', 'my private one', 'watched 4']);
    // A moderator still sees the hidden one they watched; an admin sees the private one too.
    await setRole(t.ctx.db, viewer.id, 'moderator');
    expect(await titles(viewer)).toEqual(['watched 0', 'my private one', 'watched 4', 'watched 2']);
    await setRole(t.ctx.db, viewer.id, 'admin');
    expect(await titles(viewer)).toEqual(['watched 0', 'my private one', 'watched 4', 'watched 3', 'watched 2']);
    await setRole(t.ctx.db, viewer.id, 'viewer');

    // Remove one (idempotent; it forgets the resume position too), then clear all.
    const removeOne = (id: string) => call(t.app, 'DELETE', `/api/v1/users/me/history/${id}`, { headers: viewer.auth });
    await counted(t.app, ids[4]!, { positionSeconds: 33 }, viewer);
    expect((await video(ids[4]!, viewer)).resumeAtSeconds).toBe(33);
    expect((await removeOne(ids[4]!)).json.data).toEqual({ removed: 1 });
    expect((await removeOne(ids[4]!)).json.data).toEqual({ removed: 0 });
    expect((await video(ids[4]!, viewer)).resumeAtSeconds).toBeNull();
    expect(await titles(viewer)).toEqual(['watched 0', 'my private one']);
    // Clearing counts every row, the ones hidden from the list included.
    const cleared = await call(t.app, 'DELETE', '/api/v1/users/me/history', { headers: viewer.auth });
    expect(cleared.json.data).toEqual({ removed: 5 });
    expect((await history(viewer)).json).toMatchObject({ data: [], meta: { nextCursor: null } });
    // Another user's history is untouched by any of it.
    const other = await newUser(t.app);
    await counted(t.app, ids[0]!, { positionSeconds: 7 }, other);
    expect((await history(other)).json.data).toHaveLength(1);
  });

  it('refuses what it must: 401, 404, 409, 403, 400', async () => {
    // Refused heartbeats count against the per-viewer limit too: room for all of these.
    const app = appWith({ heartbeatsPerMinute: 100 });
    const owner = await newUser(app);
    const viewer = await newUser(app);
    const id = await insertVideo(t.ctx.db, owner.id);
    // History is for signed-in viewers.
    for (const [method, path] of [
      ['GET', '/api/v1/users/me/history'],
      ['DELETE', '/api/v1/users/me/history'],
      ['DELETE', `/api/v1/users/me/history/${id}`],
    ] as const) {
      const res = await call(app, method, path);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
    }
    // Videos the viewer may not see.
    const notFound = [
      randomUUID(),
      await insertVideo(t.ctx.db, owner.id, { visibility: 'private' }),
      await insertVideo(t.ctx.db, owner.id, { hidden: true }),
      await insertVideo(t.ctx.db, owner.id, { deleted: true }),
      await insertVideo(t.ctx.db, owner.id, { status: 'processing' }),
    ];
    for (const missing of notFound) {
      const res = await beat(app, missing, { positionSeconds: 0 }, viewer);
      expect(res.status, missing).toBe(404);
      expect(res.json.error.code).toBe('not_found');
    }
    // The owner sees their processing video, but it cannot be watched yet.
    const processing = await beat(app, notFound[4]!, { positionSeconds: 0 }, owner);
    expect(processing.status).toBe(409);
    // Age-restricted: signed-in viewers only.
    const restricted = await insertVideo(t.ctx.db, owner.id, { ageRestricted: true });
    const anonymous = await beat(app, restricted, { positionSeconds: 0, deviceId: device() });
    expect(anonymous.status).toBe(403);
    expect(anonymous.json.error.details).toEqual({ reason: 'age_restricted' });
    expect(await counted(app, restricted, { positionSeconds: 0 }, viewer)).toBe(true);
    // Invalid bodies and ids.
    for (const body of [{}, { positionSeconds: -1 }, { positionSeconds: '10' }, { positionSeconds: 7 * 86_400 + 1 }, { positionSeconds: 1, deviceId: 'short' }, { positionSeconds: 1, deviceId: 'x'.repeat(65) }, { positionSeconds: 1, deviceId: 'has space!' }, { positionSeconds: 1, extra: true }]) {
      const res = await beat(app, id, body, viewer);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
    }
    expect((await beat(app, 'not-a-uuid', { positionSeconds: 0 })).status).toBe(400);
    expect((await call(app, 'DELETE', '/api/v1/users/me/history/not-a-uuid', { headers: viewer.auth })).status).toBe(400);
    expect((await history(viewer, '?cursor=nonsense')).status).toBe(400);
    // Nothing counted by any refusal.
    for (const missing of notFound.slice(1)) expect(await stored(missing)).toEqual({ viewCount: 0, rows: 0, pending: 0 });
    expect(await stored(id)).toEqual({ viewCount: 0, rows: 0, pending: 0 });
  });

  it('limits heartbeats per viewer, and anonymous ones per address whatever device ids they carry', async () => {
    const app = appWith({ heartbeatsPerMinute: 3, anonymousHeartbeatsPerAddressPerMinute: 5 });
    const owner = await newUser(app);
    const id = await insertVideo(t.ctx.db, owner.id);
    const [viewer, other] = [await newUser(app), await newUser(app)];
    const statuses = async (n: number, send: () => ReturnType<typeof beat>) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push((await send()).status);
      return out;
    };
    expect(await statuses(4, () => beat(app, id, { positionSeconds: 1 }, viewer))).toEqual([200, 200, 200, 429]);
    const refused = await beat(app, id, { positionSeconds: 1 }, viewer);
    expect(refused.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'view-heartbeats' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another viewer has their own budget.
    expect((await beat(app, id, { positionSeconds: 1 }, other)).status).toBe(200);
    // Anonymous: one device is held to 3; new device ids from the same address to 5 in all.
    const d = device();
    expect(await statuses(4, () => beat(app, id, { positionSeconds: 1, deviceId: d }))).toEqual([200, 200, 200, 429]);
    const fresh = await statuses(3, () => beat(app, id, { positionSeconds: 1, deviceId: device() }));
    expect(fresh).toEqual([200, 429, 429]);
    const byAddress = await beat(app, id, { positionSeconds: 1, deviceId: device() });
    expect(byAddress.json.error.details.rule).toBe('anonymous-view-heartbeats');
    // Signed-in viewers are not held by their address's anonymous budget.
    expect((await beat(app, id, { positionSeconds: 2 }, await newUser(app))).status).toBe(200);
  });

  it('documents the routes and fields in the OpenAPI document', async () => {
    const doc = (await call(t.app, 'GET', '/api/v1/openapi.json')).json;
    expect(Object.keys(doc.paths['/api/v1/videos/{id}/views'].post.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404', '409', '429']));
    expect(doc.paths['/api/v1/users/me/history'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/v1/users/me/history'].delete).toBeDefined();
    expect(doc.paths['/api/v1/users/me/history/{id}'].delete).toBeDefined();
    expect(doc.components.schemas.Video.properties).toHaveProperty('viewCount');
    expect(doc.components.schemas.Video.properties).toHaveProperty('resumeAtSeconds');
  });
});
