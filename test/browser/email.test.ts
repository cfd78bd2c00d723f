import { afterEach, describe, expect, it } from 'vitest';
import { deleteMessagesTo, latestMessage, linkIn, waitForMessages } from '../support/mailpit.ts';
import { newPerson, useBrowserApp } from './support/harness.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerByApi, registerThroughPage, signInThroughPage } from './support/pages.ts';

// Email in the web app, read from the real mailbox (mailpit): the account page's banner and
// its resend, the verification link, and a forgotten password from sign-in back to sign-in.

const app = useBrowserApp({ workers: true });
const mailboxes: string[] = [];
afterEach(async () => {
  for (const address of mailboxes.splice(0)) await deleteMessagesTo(address);
});

describe('email', { timeout: 180_000 }, () => {
  it('asks an unverified account to confirm, resends the link, and the link confirms the address', async () => {
    const page = await app.newPage();
    const person = await registerThroughPage(app, page, newPerson());
    mailboxes.push(person.email);
    await page.goto(app.url('/account'));
    const banner = page.getByRole('region', { name: 'Email verification' });
    await banner.getByText(`we mailed a link to ${person.email}`).waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);

    await banner.getByRole('button', { name: 'Resend the email' }).click();
    await banner.getByRole('status').filter({ hasText: 'A new link is on its way.' }).waitFor();
    const [newest] = await waitForMessages(person.email, 2);
    const message = await latestMessage(person.email, 'Confirm your email address');
    expect(message.ID).toBe(newest!.ID);

    await page.goto(linkIn(message, '/verify-email').url);
    await page.getByRole('status').filter({ hasText: 'Your email address is confirmed.' }).waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.getByRole('heading', { name: 'Account' }).waitFor();
    await page.getByLabel('Display name').waitFor();
    expect(await page.getByRole('region', { name: 'Email verification' }).count()).toBe(0);

    // The link works once.
    await page.goto(linkIn(message, '/verify-email').url);
    await page.getByRole('alert').filter({ hasText: 'already used' }).waitFor();
  });

  it('resets a forgotten password from the sign-in page by mail, then signs in with the new one', async () => {
    const person = await registerByApi(app);
    mailboxes.push(person.email);
    const page = await app.newPage();
    await page.goto(app.url('/sign-in'));
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByLabel('Email').fill(person.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('status').filter({ hasText: `If an account uses ${person.email}` }).waitFor();

    const message = await latestMessage(person.email, 'Reset your StreamHub password');
    await page.goto(linkIn(message, '/reset-password').url);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Password changed' }).waitFor();
    await expectAccessible(page);

    await page.getByRole('link', { name: 'Sign in with your new password' }).click();
    await signInThroughPage(app, page, { username: person.username, password: 'a brand new passphrase' });
    await accountMenu(page, person.username).waitFor();
  });
});
