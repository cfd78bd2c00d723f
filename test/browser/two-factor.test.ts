import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerThroughPage, signOutThroughPage } from './support/pages.ts';

// Two-factor sign-in in Chromium against the real API (README, "Two-factor sign-in"): set up
// from the account's Security page, the sign-in page's code step, a recovery code, turning it off.

const app = useBrowserApp();

/** The code an authenticator app shows `steps` time-steps from now (±1 is within the accepted drift). */
const codeAt = (secret: string, steps = 0) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });

async function passwordStep(page: Page, person: { username: string; password: string }) {
  await page.goto(app.url('/sign-in'));
  await page.getByLabel('Email or username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
}

describe('two-factor sign-in', () => {
  it('sets up with the QR code or key, shows the recovery codes once, asks for a code at sign-in, takes a recovery code, and turns off', async () => {
    const page = await app.newPage();
    const person = await registerThroughPage(app, page);

    await page.goto(app.url('/account'));
    await page.getByRole('link', { name: 'Security: two-factor sign-in' }).click();
    await page.getByRole('heading', { name: 'Security' }).waitFor();
    // The password first: a signed-in browser alone cannot put another app on the account.
    const start = page.getByRole('form', { name: 'Set up two-factor sign-in' });
    await start.getByLabel('Password').fill(`${person.password}x`);
    await start.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await start.getByText('Wrong password').waitFor();
    await start.getByLabel('Password').fill(person.password);
    await start.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = page.getByRole('img', { name: 'QR code that adds your StreamHub account to an authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    const secret = (await page.getByTestId('setup-key').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await expectAccessible(page);
    await expectFitsPhone(page);

    const code = page.getByLabel('6-digit code from your authenticator app');
    await code.fill(codeAt(secret, 5));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not right/);

    await code.fill(codeAt(secret));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    const list = page.getByRole('list', { name: 'Recovery codes' });
    await list.waitFor();
    const recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    const download = page.getByRole('link', { name: 'Download the codes' });
    expect(await download.getAttribute('download')).toBe('streamhub-recovery-codes.txt');
    expect(decodeURIComponent((await download.getAttribute('href'))!)).toContain(recoveryCodes.join('\n'));
    await page.getByText('Two-factor sign-in is on.').waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await list.waitFor({ state: 'detached' });

    // Signing in now asks for the code after the password.
    await signOutThroughPage(page, person.username);
    await passwordStep(page, person);
    expect(await accountMenu(page, person.username).count()).toBe(0);
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByLabel('6-digit code from your authenticator app').fill(codeAt(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await accountMenu(page, person.username).waitFor();

    // Without the app: a recovery code, once.
    await signOutThroughPage(page, person.username);
    await passwordStep(page, person);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!.toUpperCase());
    await page.getByRole('button', { name: 'Verify' }).click();
    await accountMenu(page, person.username).waitFor();

    // Turning it off takes the password and a code; the used recovery code is refused.
    await page.goto(app.url('/account/security'));
    const off = page.getByRole('form', { name: 'Turn off two-factor sign-in' });
    await off.getByLabel('Password').fill(person.password);
    await off.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[0]!);
    await off.getByRole('button', { name: 'Turn off' }).click();
    await off.getByRole('alert').waitFor();
    await off.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[1]!);
    await off.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).waitFor();

    // The security notifications say what happened.
    await page.goto(app.url('/notifications'));
    await page.getByText('Two-factor sign-in was turned off').waitFor();
    expect(await page.getByText('A recovery code was used to sign in').count()).toBe(1);
  });
});
