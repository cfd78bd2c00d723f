import { describe, expect, it } from 'vitest';
import { createTokenSigner } from '../../lib/tokens.ts';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, registerThroughPage } from './support/pages.ts';

// Access tokens live 15 minutes; the page trades its refresh token for a new pair when the
// API answers 401, once for however many requests failed together, and nobody notices.

const app = useBrowserApp();

interface StoredSession {
  accessToken: string;
  refreshToken: string;
}

describe('an expired access token', () => {
  it('is refreshed once, without the person noticing, and the requests that failed are sent again', async () => {
    const page = await app.newPage();
    const person = await registerThroughPage(app, page);
    const stored = JSON.parse((await page.evaluate(() => localStorage.getItem('streamhub.session')))!) as StoredSession;

    // The same session's token, expired a minute ago (signed with the API's own secret).
    const claims = JSON.parse(Buffer.from(stored.accessToken.split('.')[1]!, 'base64url').toString()) as { sub: string; role: string; sid: string };
    const expired = await createTokenSigner({ secret: app.ctx.config.auth.jwtSecret, ttlSeconds: -60 }).signAccess({ userId: claims.sub, role: claims.role as never, sessionId: claims.sid });
    await page.evaluate((token) => {
      const s = JSON.parse(localStorage.getItem('streamhub.session')!);
      localStorage.setItem('streamhub.session', JSON.stringify({ ...s, accessToken: token }));
    }, expired.token);

    const answers: { url: string; status: number }[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/')) answers.push({ url: new URL(r.url()).pathname + new URL(r.url()).search, status: r.status() });
    });
    // The upload page lists the person's own videos with the token; saving the profile on the
    // account page needs it too.
    await page.goto(app.url('/upload'));
    await page.getByRole('heading', { name: 'Your videos' }).waitFor();
    await page.getByText('You have not uploaded anything yet.').waitFor();
    await page.goto(app.url('/account'));
    await page.getByLabel('Display name').fill('Renamed After Expiry');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Profile saved.').waitFor();

    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.url === '/api/v1/auth/refresh')).toEqual([{ url: '/api/v1/auth/refresh', status: 200 }]);
    expect(await page.getByRole('alert').count()).toBe(0);
    await accountMenu(page, person.username).waitFor();
    const after = JSON.parse((await page.evaluate(() => localStorage.getItem('streamhub.session')))!) as StoredSession;
    expect(after.accessToken).not.toBe(expired.token);
    expect(after.refreshToken).not.toBe(stored.refreshToken); // rotated
  });

  it('signs the page out when the refresh token is refused', async () => {
    const page = await app.newPage();
    const person = await registerThroughPage(app, page);
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('streamhub.session')!);
      localStorage.setItem('streamhub.session', JSON.stringify({ ...s, accessToken: 'not-a-token', refreshToken: 'not-a-refresh-token' }));
    });
    // The first request the page makes (the account page's own, or the notification bell's) is
    // refused, its refresh is refused, and the page signs out: the account page sends the person to sign in.
    await page.goto(app.url('/account'));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await accountMenu(page, person.username).count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('streamhub.session'))).toBeNull();
  });
});
