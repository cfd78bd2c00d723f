import { describe, expect, it } from 'vitest';
import {
  defaultEmailChannels,
  describeForMail,
  DIGEST_MAX_LINES,
  digestDay,
  digestEmail,
  digestLines,
  effectiveEmailChannel,
  instantNotificationEmail,
  type MailedNotification,
} from '../../lib/notification-email.ts';
import { configurableNotificationTypes, mandatoryNotificationTypes, notificationTypes } from '../../lib/schema.ts';
import { webLinks } from '../../lib/web-urls.ts';

const web = webLinks('https://video.example.org');

const note = (i: number, overrides: Partial<MailedNotification> = {}): MailedNotification => ({
  id: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  type: 'video_published',
  entityType: 'video',
  entityId: `v${i}`,
  payload: { title: `Video ${i}` },
  createdAt: new Date(Date.UTC(2026, 11, 3, 0, i)),
  ...overrides,
});

describe('email channel defaults', () => {
  it('are the table the README states', () => {
    expect(defaultEmailChannels).toEqual({
      stream_live: 'off',
      stream_scheduled: 'off',
      comment_received: 'off',
      video_published: 'daily',
      new_follower: 'daily',
      comment_reply: 'daily',
      tip_received: 'instant',
      payout_processed: 'instant',
      subscription_received: 'instant',
      subscription_gifted: 'instant',
      moderation_decision: 'instant',
      report_outcome: 'instant',
      moderation_escalation: 'instant',
      appeal_outcome: 'instant',
      appeal_message: 'instant',
      security_alert: 'instant',
    });
    expect(Object.keys(defaultEmailChannels).sort()).toEqual([...notificationTypes].sort());
  });

  it('follow the stored setting, else the default; mandatory types always mail instantly', () => {
    expect(effectiveEmailChannel('comment_received', null)).toBe('off');
    expect(effectiveEmailChannel('comment_received', 'instant')).toBe('instant');
    expect(effectiveEmailChannel('tip_received', 'off')).toBe('off');
    for (const type of mandatoryNotificationTypes) expect(effectiveEmailChannel(type, 'off')).toBe('instant');
    for (const type of configurableNotificationTypes) expect(effectiveEmailChannel(type, 'daily')).toBe('daily');
  });
});

describe('notification mail', () => {
  it('links a notification to its page, escaped in HTML, with the settings page to unsubscribe', () => {
    const mail = instantNotificationEmail({ username: '<b>eve</b>', notification: note(1, { payload: { title: 'Tom & Jerry' } }), web });
    expect(mail.subject).toBe('StreamHub: New video: Tom & Jerry');
    expect(mail.text).toContain('- New video: Tom & Jerry: https://video.example.org/videos/v1');
    expect(mail.text).toContain('Change or turn off these emails: https://video.example.org/notifications#settings');
    expect(mail.html).toContain('<a href="https://video.example.org/videos/v1">New video: Tom &amp; Jerry</a>');
    expect(mail.html).toContain('href="https://video.example.org/notifications#settings"');
    expect(mail.html).toContain('Hi &lt;b&gt;eve&lt;/b&gt;,');
    expect(describeForMail(note(2, { type: 'subscription_received', entityType: 'subscription', payload: {} }), web)).toEqual({
      text: 'You have a new subscriber',
      url: 'https://video.example.org/dashboard/subscribers',
    });
    expect(describeForMail(note(3, { type: 'appeal_outcome', payload: {} }), web)).toEqual({ text: 'Appeal outcome', url: 'https://video.example.org/notifications' });
  });

  it('groups a day into one digest, newest first, counting what does not fit', () => {
    const three = [note(1), note(3, { type: 'new_follower', payload: {} }), note(2, { type: 'comment_reply', payload: { title: 'Clip' } })];
    const mail = digestEmail({ username: 'eve', notifications: three, web });
    expect(mail.subject).toBe('StreamHub: your daily digest (3 new notifications)');
    const lines = mail.text.split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toEqual([
      '- You have a new follower: https://video.example.org/notifications',
      '- A reply to your comment on Clip: https://video.example.org/videos/v2',
      '- New video: Video 1: https://video.example.org/videos/v1',
    ]);
    expect(digestEmail({ username: 'eve', notifications: [note(1)], web }).subject).toBe('StreamHub: your daily digest (1 new notification)');

    expect(DIGEST_MAX_LINES).toBe(50); // README, "Notification email"
    const many = Array.from({ length: DIGEST_MAX_LINES + 7 }, (_, i) => note(i));
    const { lines: kept, more } = digestLines(many, web);
    expect(kept).toHaveLength(DIGEST_MAX_LINES);
    expect(more).toBe(7);
    expect(kept[0]!.text).toBe(`New video: Video ${DIGEST_MAX_LINES + 6}`);
    expect(digestEmail({ username: 'eve', notifications: many, web }).text).toContain('And 7 more: https://video.example.org/notifications');
  });

  it('names a run by its UTC day', () => {
    expect(digestDay(new Date('2026-12-03T23:59:59.999Z'))).toBe('2026-12-03');
    expect(digestDay(new Date('2026-12-04T00:00:00Z'))).toBe('2026-12-04');
  });
});
