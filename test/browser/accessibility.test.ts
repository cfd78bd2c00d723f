import { describe, expect, it } from 'vitest';
import { useBrowserApp } from './support/harness.ts';
import { horizontalOverflow, PHONE, registerThroughPage, seriousViolations } from './support/pages.ts';

// axe-core on the main pages (no serious or critical violations), keyboard reachability, and
// a phone-width screen (390 px) where nothing scrolls sideways. The watch page is checked in
// upload-and-watch.test.ts, once it has a video to show.

const app = useBrowserApp();

describe('accessibility', () => {
  it('has no serious violations on home, sign-in and register, and nothing overflows at 390 px', async () => {
    for (const viewport of [undefined, PHONE]) {
      const page = await app.newPage(viewport ? { viewport } : {});
      for (const [path, heading] of [
        ['/', 'StreamHub'],
        ['/sign-in', 'Sign in'],
        ['/register', 'Create an account'],
      ] as const) {
        await page.goto(app.url(path));
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        await expect.poll(() => page.getByText('Loading…').count()).toBe(0);
        expect(await seriousViolations(page), `${path} at ${viewport?.width ?? 1280} px`).toEqual([]);
        expect(await horizontalOverflow(page), `${path} at ${viewport?.width ?? 1280} px`).toBe(0);
      }
    }
  }, 180_000); // six pages, each loaded and analysed by axe

  it('has no serious violations on the upload page, at desktop and phone width', async () => {
    const page = await app.newPage();
    await registerThroughPage(app, page);
    for (const viewport of [{ width: 1280, height: 800 }, PHONE]) {
      await page.setViewportSize(viewport);
      await page.goto(app.url('/upload'));
      await page.getByText('You have not uploaded anything yet.').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      expect(await horizontalOverflow(page)).toBe(0);
    }
  }, 120_000);

  it('can be used from the keyboard: a skip link first, then the navigation', async () => {
    const page = await app.newPage();
    await page.goto(app.url('/'));
    await page.getByRole('heading', { name: 'Live now' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(page.url()).toMatch(/#main$/);
    await page.goto(app.url('/'));
    // Sign-in is reachable by Tab and opens with Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const text = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent);
      if (text === 'Sign in') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  });
});
