import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import type { NotificationEvent } from '../../lib/notifications.ts';
import type { FanoutInput, FanoutProgress, fanoutWorkflow } from '../../workflows/fanout.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { insertFollowers, newUser, type TestUser } from '../support/fixtures.ts';
import { historySummary } from '../support/history.ts';
import { call } from '../support/http.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

let ctx: TestContext;
let app: App;
let star: TestUser;
let followers: string[];
const disabledType = new Set<string>();

// 10,000 followers: every 10th has notify off, every 7th (notify on) turned stream_live off.
const FOLLOWERS = 10_000;
const notifyOff = (i: number) => i % 10 === 0;
const typeOff = (i: number) => !notifyOff(i) && i % 7 === 0;
const expectedRecipients = () => followers.filter((_, i) => !notifyOff(i) && !typeOff(i));

beforeAll(async () => {
  ctx = await createTestContext();
  app = createApp(ctx.apiDeps());
  star = await newUser(app);
  followers = await insertFollowers(ctx.db, star.id, FOLLOWERS, { notifyOff });
  const off = followers.filter((_, i) => typeOff(i));
  off.forEach((id) => disabledType.add(id));
  await ctx.db
    .insertInto('notification_settings')
    .values(off.map((id) => ({ user_id: id, type: 'stream_live' as const, in_app: false })))
    .execute();
}, 120_000);
afterAll(() => ctx?.cleanup());

const liveEvent = (suffix: string): NotificationEvent => ({
  id: `stream_live:test-${suffix}`,
  type: 'stream_live',
  actorId: star.id,
  entityType: 'stream',
  entityId: `stream-${suffix}`,
  payload: { title: `Live ${suffix}` },
});

function runFanout(workflowId: string, input: FanoutInput): Promise<FanoutProgress> {
  return ctx.temporal.client.workflow.execute<typeof fanoutWorkflow>('fanoutWorkflow', {
    workflowId,
    taskQueue: ctx.config.temporal.taskQueue,
    args: [input],
  });
}

async function recipientsOf(eventId: string) {
  const rows = await ctx.db.selectFrom('notifications').select('recipient_id').where('event_id', '=', eventId).execute();
  return rows.map((r) => r.recipient_id);
}

describe('notification fan-out workflow', () => {
  it('gives every follower who wants it exactly one notification, and pushes each one to that user only', async () => {
    const event = liveEvent('a');
    // Recipient (from the subject) → the notifications pushed to them.
    const pushed = new Map<string, { id: string; type: string; entityId: string }[]>();
    const recipientOf = (subject: string) => subject.slice(ctx.nats.subject('user.').length, -'.notifications'.length);
    const sentinel = ctx.nats.subject('user.sentinel.notifications');
    const subscription = ctx.nats.connection.subscribe(ctx.nats.subject('user.*.notifications'));
    const collecting = (async () => {
      for await (const message of subscription) {
        if (message.subject === sentinel) break;
        const recipient = recipientOf(message.subject);
        pushed.set(recipient, [...(pushed.get(recipient) ?? []), message.json()]);
      }
    })();
    await ctx.nats.connection.flush(); // the subscription is registered before anything is published

    const result = await withWorkers(ctx, () => runFanout(`fanout/${event.id}`, { event, audience: { kind: 'followers', userId: star.id }, pageSize: 1000 }));
    // Every push went out (and was flushed) before its activity completed; the sentinel,
    // published after the workflow ended, arrives after all of them.
    ctx.nats.connection.publish(sentinel, '{}');
    await collecting;

    const expected = expectedRecipients();
    const rows = await ctx.db.selectFrom('notifications').select(['id', 'recipient_id']).where('event_id', '=', event.id).execute();
    expect(result.delivered).toBe(expected.length);
    expect(rows.length).toBe(expected.length);
    expect(new Set(rows.map((r) => r.recipient_id))).toEqual(new Set(expected));
    // Exactly one push per recipient, on their own subject, carrying their own notification;
    // nobody outside the audience got one.
    const notificationOf = new Map(rows.map((r) => [r.recipient_id, r.id]));
    expect(new Set(pushed.keys())).toEqual(new Set(expected));
    const wrong = [...pushed].filter(
      ([recipient, messages]) =>
        messages.length !== 1 || messages[0]!.id !== notificationOf.get(recipient) || messages[0]!.type !== 'stream_live' || messages[0]!.entityId !== event.entityId,
    );
    expect(wrong).toEqual([]);
  });

  it('adds nothing when the same event runs again', async () => {
    const event = liveEvent('a');
    const before = (await recipientsOf(event.id)).length;
    await withWorkers(ctx, () => runFanout(`fanout/${event.id}/again`, { event, audience: { kind: 'followers', userId: star.id }, pageSize: 1000 }));
    expect((await recipientsOf(event.id)).length).toBe(before);
  });

  it('recovers from a fault in a middle batch without duplicates', async () => {
    const event = liveEvent('fault');
    let calls = 0;
    let failed = false;
    await withWorkers(
      ctx,
      () => runFanout(`fanout/${event.id}`, { event, audience: { kind: 'followers', userId: star.id }, pageSize: 1000, parallelPages: 2 }),
      {
        wrap: (real) => ({
          async deliverToFollowerPage(input) {
            const call = ++calls;
            const delivered = await real.deliverToFollowerPage(input);
            // Fail after the rows are written, the worst place: the retry must not double them.
            if (call === 5 && !failed) {
              failed = true;
              throw ApplicationFailure.retryable('injected fault after the insert');
            }
            return delivered;
          },
        }),
      },
    );
    expect(failed).toBe(true);
    expect(calls).toBe(11); // ten pages, one of them twice
    const recipients = await recipientsOf(event.id);
    expect(recipients.length).toBe(expectedRecipients().length);
    expect(new Set(recipients).size).toBe(recipients.length);
  });

  it('survives its worker being killed mid-fan-out, resuming without gaps or duplicates', async () => {
    const event = liveEvent('kill');
    const handle = await ctx.temporal.client.workflow.start<typeof fanoutWorkflow>('fanoutWorkflow', {
      workflowId: `fanout/${event.id}`,
      taskQueue: ctx.config.temporal.taskQueue,
      args: [{ event, audience: { kind: 'followers', userId: star.id }, pageSize: 250, parallelPages: 1, pageTimeout: '5 seconds' }],
    });
    const doomed = await spawnWorkerProcess(ctx);
    const exited = new Promise((resolve) => doomed.once('exit', resolve));
    let atKill = 0;
    for (let i = 0; i < 600 && atKill === 0; i++) {
      atKill = (await recipientsOf(event.id)).length;
      if (atKill === 0) await sleep(100);
    }
    doomed.kill('SIGKILL');
    await exited;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(expectedRecipients().length);

    const result = await withWorkers(ctx, () => handle.result());
    const recipients = await recipientsOf(event.id);
    expect(recipients.length).toBe(expectedRecipients().length);
    expect(new Set(recipients).size).toBe(recipients.length);
    expect(result.delivered).toBe(expectedRecipients().length);
  });

  it('continues as new on a large audience and still delivers the exact total', async () => {
    const event = liveEvent('can');
    const workflowId = `fanout/${event.id}`;
    const result = await withWorkers(ctx, () =>
      runFanout(workflowId, { event, audience: { kind: 'followers', userId: star.id }, pageSize: 500, parallelPages: 2, maxPagesPerRun: 4 }),
    );
    expect(result.run).toBeGreaterThanOrEqual(5);
    expect(result.delivered).toBe(expectedRecipients().length);
    expect((await recipientsOf(event.id)).length).toBe(expectedRecipients().length);
    const history = await ctx.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events?.length).toBeLessThan(100); // the last run only
  });

  it('delivers four pages at a time and answers the progress query while it runs', async () => {
    const host = await newUser(app);
    const fans = (await insertFollowers(ctx.db, host.id, 40)).sort(); // 8 pages of 5, in keyset order
    const event: NotificationEvent = { ...liveEvent(`window-${ctx.id}`), actorId: host.id };
    const workflowId = `fanout/${event.id}`;
    // Each page waits here until the test lets it go, so a whole window is held in flight.
    const held: (() => void)[] = [];
    // Up to 2 minutes: once a whole-suite run took over 30 s from a window's release to the next
    // window's start. If it takes longer, the message shows where the workflow stood.
    const heldPages = async (count: number) => {
      for (let i = 0; i < 2400 && held.length < count; i++) await sleep(50);
      if (held.length !== count) expect.fail(`${held.length} pages held, expected ${count}; the run's history:\n${await historySummary(handle)}`);
    };
    const scheduledPages = async () =>
      (await ctx.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events!.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverToFollowerPage',
      ).length;
    let holding = true;
    const release = () => held.splice(0).forEach((go) => go());

    const handle = await ctx.temporal.client.workflow.start<typeof fanoutWorkflow>('fanoutWorkflow', {
      workflowId,
      taskQueue: ctx.config.temporal.taskQueue,
      args: [{ event, audience: { kind: 'followers', userId: host.id }, pageSize: 5 }], // parallelPages: the default
    });
    const result = await withWorkers(
      ctx,
      async () => {
        try {
          await heldPages(4);
          // The workflow is blocked on these four: it can schedule nothing more until one completes.
          // `progress` is the query name the README gives operators.
          expect(await scheduledPages()).toBe(4);
          expect(await handle.query<FanoutProgress>('progress')).toEqual({ after: null, delivered: 0, pages: 0, run: 1 });
          release();
          await heldPages(4);
          expect(await scheduledPages()).toBe(8);
          expect(await handle.query<FanoutProgress>('progress')).toEqual({ after: fans[19], delivered: 20, pages: 4, run: 1 });
        } catch (err) {
          await handle.terminate('expectation failed'); // no run left behind in the shared namespace
          throw err;
        } finally {
          // Also when an expectation failed: a worker cannot shut down around a held activity.
          holding = false;
          release();
        }
        return handle.result();
      },
      {
        wrap: (real) => ({
          async deliverToFollowerPage(input) {
            if (holding) await new Promise<void>((go) => held.push(go));
            return real.deliverToFollowerPage(input);
          },
        }),
      },
    );
    expect(result).toEqual({ after: fans[39], delivered: 40, pages: 8, run: 1 });
  }, 300_000);

  it('fails fast, without retrying, on an event the database rejects', async () => {
    const event = { ...liveEvent('bad'), actorId: crypto.randomUUID() }; // no such user
    const outcome = await withWorkers(ctx, () =>
      runFanout(`fanout/${event.id}`, { event, audience: { kind: 'followers', userId: star.id }, pageSize: 1000 }).catch((err: unknown) => err),
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidNotificationEvent');
    expect(cause.nonRetryable).toBe(true);
    expect(await recipientsOf(event.id)).toEqual([]);
  });

  it('delivers to an explicit list of users, honouring their settings', async () => {
    const [a, b] = [await newUser(app), await newUser(app)];
    await call(app, 'PUT', '/api/v1/notifications/settings', { headers: b.auth, body: { video_published: { inApp: false } } });
    const event: NotificationEvent = { id: 'video_published:test-1', type: 'video_published', actorId: star.id, entityType: 'video', entityId: 'v1', payload: {} };
    const result = await withWorkers(ctx, () => runFanout(`fanout/${event.id}`, { event, audience: { kind: 'users', userIds: [a.id, b.id] } }));
    expect(result.delivered).toBe(1);
    expect(await recipientsOf(event.id)).toEqual([a.id]);
  });
});
