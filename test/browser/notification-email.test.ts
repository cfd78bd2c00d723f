import { afterEach, describe, expect, it } from 'vitest';
import { deleteMessagesTo, latestMessage } from '../support/mailpit.ts';
import { useBrowserApp } from './support/harness.ts';
import { expectAccessible, expectFitsPhone, registerByApi, registerThroughPage, signInThroughPage } from './support/pages.ts';

// Notification email from the notifications page: choosing a type's email channel, and the
// mail a real follow then sends (read from mailpit), whose unsubscribe link leads back.

const app = useBrowserApp({ workers: true });
const mailboxes: string[] = [];
afterEach(async () => {
  for (const address of mailboxes.splice(0)) await deleteMessagesTo(address);
});

describe('notification email', { timeout: 180_000 }, () => {
  it('sets a type to mail right away; a new follower then arrives by email, and its link opens the settings', async () => {
    const creator = await registerByApi(app);
    mailboxes.push(creator.email);
    await app.ctx.db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', creator.id).execute();

    const page = await app.newPage();
    await signInThroughPage(app, page, creator);
    await page.goto(app.url('/notifications'));
    const email = page.getByRole('group', { name: 'Email me when' });
    const follows = email.getByLabel('Someone follows me');
    expect(await follows.inputValue()).toBe('daily');
    expect(await email.getByLabel('Someone comments on my video').inputValue()).toBe('off');
    await expectAccessible(page);
    await expectFitsPhone(page);

    await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/api/v1/notifications/settings') && res.request().method() === 'PUT' && res.ok()),
      follows.selectOption({ label: 'Right away' }),
    ]);
    await page.reload();
    expect(await page.getByRole('group', { name: 'Email me when' }).getByLabel('Someone follows me').inputValue()).toBe('instant');

    const fanPage = await app.newPage();
    const fan = await registerThroughPage(app, fanPage);
    mailboxes.push(fan.email);
    await fanPage.goto(app.url(`/@${creator.username}`));
    await fanPage.getByRole('button', { name: 'Follow' }).click();
    await fanPage.getByRole('button', { name: 'Following' }).waitFor();

    const message = await latestMessage(creator.email, 'You have a new follower');
    expect(message.Subject).toBe('StreamHub: You have a new follower');
    const unsubscribe = /Change or turn off these emails: (\S+)/.exec(message.Text)?.[1];
    expect(unsubscribe).toBe(app.url('/notifications#settings'));
    await page.goto(unsubscribe!);
    await page.getByRole('group', { name: 'Email me when' }).waitFor();
    expect(await page.getByRole('group', { name: 'Email me when' }).getByLabel('Someone follows me').inputValue()).toBe('instant');
  });
});
