import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { headObject } from '../../lib/s3.ts';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { hitRateLimit } from '../../lib/rate-limits.ts';
import { ensureDailySchedule } from '../../scripts/stack/provision.ts';
import type { retentionWorkflow } from '../../workflows/maintenance.ts';
import { useTestContext } from '../support/context.ts';
import { newUser } from '../support/fixtures.ts';
import { withWorkers } from '../support/workers.ts';

const t = useTestContext();

describe('retention', () => {
  it('deletes only read notifications past their age, expired blacklist entries and stale counters', async () => {
    const user = await newUser(createApp(t.ctx.apiDeps()));
    const notification = (name: string, readDaysAgo: number | null) => ({
      event_id: `retention:${name}`,
      recipient_id: user.id,
      type: 'stream_live' as const,
      actor_id: null,
      entity_type: 'stream',
      entity_id: name,
      read_at: readDaysAgo === null ? null : sql<Date>`now() - make_interval(days => ${readDaysAgo})`,
    });
    await t.ctx.db
      .insertInto('notifications')
      .values([notification('old-read', 100), notification('recent-read', 5), notification('old-unread', null)])
      .execute();
    await t.ctx.db
      .insertInto('revoked_access_tokens')
      .values([
        { jti: crypto.randomUUID(), expires_at: new Date(Date.now() - 60_000) },
        { jti: crypto.randomUUID(), expires_at: new Date(Date.now() + 60_000) },
      ])
      .execute();
    await hitRateLimit(t.ctx.db, 'stale', 5, 60, new Date(Date.now() - 2 * 86_400_000));
    // An upload abandoned 9 days ago (with bytes that did arrive) and one started today.
    const upload = (daysAgo: number) => ({
      owner_id: user.id,
      title: `upload ${daysAgo}`,
      source: 'upload' as const,
      source_key: `uploads/abandoned-${daysAgo}/source`,
      created_at: sql<Date>`now() - make_interval(days => ${daysAgo})`,
    });
    await t.ctx.db.insertInto('videos').values([upload(9), upload(0)]).execute();
    await t.ctx.storage.client.send(new PutObjectCommand({ Bucket: t.ctx.storage.bucket, Key: t.ctx.storage.key('uploads/abandoned-9/source'), Body: 'partial' }));
    await hitRateLimit(t.ctx.db, 'fresh', 5, 60);

    const result = await withWorkers(t.ctx, () =>
      t.ctx.temporal.client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', {
        workflowId: `maintenance/retention-${t.ctx.id}`,
        taskQueue: t.ctx.config.temporal.taskQueue,
        args: [{ readNotificationDays: 30 }],
      }),
    );

    expect(result).toMatchObject({ readNotifications: 1, revokedAccessTokens: 1, rateLimitCounters: 1, abandonedUploads: 1 });
    expect((await t.ctx.db.selectFrom('videos').select('title').execute()).map((v) => v.title)).toEqual(['upload 0']);
    expect(await headObject(t.ctx.storage, 'uploads/abandoned-9/source')).toBeNull();
    const left = await t.ctx.db.selectFrom('notifications').select('entity_id').where('recipient_id', '=', user.id).orderBy('entity_id').execute();
    expect(left.map((r) => r.entity_id)).toEqual(['old-unread', 'recent-read']);
    const counters = (await t.ctx.db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key);
    expect(counters).toContain('fresh');
    expect(counters).not.toContain('stale');
  });

  it('creates the daily schedule once and updates it when retention changes', async () => {
    const scheduleId = `retention-test-${t.ctx.id}`;
    const options = { scheduleId, workflowType: 'retentionWorkflow', taskQueue: t.ctx.config.temporal.taskQueue };
    await ensureDailySchedule(t.ctx.temporal.client, { ...options, args: [{ readNotificationDays: 90 }] });
    await ensureDailySchedule(t.ctx.temporal.client, { ...options, args: [{ readNotificationDays: 14 }] });
    const handle = t.ctx.temporal.client.schedule.getHandle(scheduleId);
    try {
      const described = await handle.describe();
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', args: [{ readNotificationDays: 14 }] });
      expect(described.spec.intervals?.[0]?.every).toBe(86_400_000);
    } finally {
      await handle.delete();
    }
  });
});
