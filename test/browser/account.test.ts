import { describe, expect, it } from 'vitest';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, registerThroughPage, signInThroughPage, signOutThroughPage } from './support/pages.ts';

// Register, sign out, sign in again: the account pages against the real API, in Chromium.

const app = useBrowserApp();

describe('account', () => {
  it('registers, signs out and signs in again, and the session survives a reload', async () => {
    const page = await app.newPage();
    const person = await registerThroughPage(app, page);

    // The session is kept across a reload (stable URLs, tokens in storage).
    await page.reload();
    await accountMenu(page, person.username).waitFor();

    await signOutThroughPage(page, person.username);
    expect(await accountMenu(page, person.username).count()).toBe(0);
    // The tokens are gone from the browser.
    const stored = await page.evaluate(() => localStorage.getItem('streamhub.session'));
    expect(stored).toBeNull();

    await signInThroughPage(app, page, person);
    // The menu shows as soon as the session is kept; the home page (its own chunk) follows.
    await page.getByRole('heading', { name: 'StreamHub', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('says why a sign-in is refused', async () => {
    const page = await app.newPage();
    await page.goto(app.url('/sign-in'));
    await page.getByLabel('Email or username').fill('nobody_here');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/invalid|incorrect|wrong/i);
  });
});
