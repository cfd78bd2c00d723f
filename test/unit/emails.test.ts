import { describe, expect, it } from 'vitest';
import { passwordResetEmail, verificationEmail } from '../../lib/emails.ts';
import { messageIdFor, senderDomain } from '../../lib/mail.ts';

describe('mailed messages', () => {
  it('say the link and how long it works, in text and in escaped HTML', () => {
    const link = 'https://video.example.org/reset-password?token=a_b-c&x=1';
    const reset = passwordResetEmail({ username: '<b>eve</b>', link, ttlSeconds: 1800 });
    expect(reset.subject).toBe('Reset your StreamHub password');
    expect(reset.text).toContain(`Choose a new password: ${link}`);
    expect(reset.text).toContain('for 30 minutes');
    expect(reset.html).toContain('href="https://video.example.org/reset-password?token=a_b-c&amp;x=1"');
    expect(reset.html).toContain('Hi &lt;b&gt;eve&lt;/b&gt;,');
    expect(reset.html).not.toContain('<b>eve</b>');

    const verify = verificationEmail({ username: 'eve', link: 'https://x.test/verify-email?token=t', ttlSeconds: 86_400 });
    expect(verify.subject).toBe('Confirm your email address for StreamHub');
    expect(verify.text).toContain('for 24 hours');
    expect(verify.text).toContain('Confirm my email address: https://x.test/verify-email?token=t');
  });

  it('name each message by its outbox id at the sender\'s domain', () => {
    expect(senderDomain('StreamHub <no-reply@video.example.org>')).toBe('video.example.org');
    expect(senderDomain('no-reply@example.com')).toBe('example.com');
    expect(messageIdFor('0b6f', 'StreamHub <no-reply@video.example.org>')).toBe('<0b6f@video.example.org>');
  });
});
