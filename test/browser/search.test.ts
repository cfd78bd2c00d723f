import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { recomputeTrending } from '../../activities/trending.ts';
import { insertBulkUsers } from '../support/fixtures.ts';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { expectAccessible, expectFitsPhone, registerByApi } from './support/pages.ts';

// Discovery, signed out, in Chromium against the real API: the header's search box
// (suggestions as you type, a combobox), the results page (type tabs, typo matches), the home
// page's Trending section and a video's Up next.

const app = useBrowserApp();

describe('search', () => {
  it('suggests as you type, opens a suggestion with the keyboard, and shows results by type with typo matches', async () => {
    const owner = await registerByApi(app);
    const db = app.ctx.db;
    await insertVideo(db, owner.id, { title: 'Minecraft survival island', viewCount: 40 });
    const redstone = await insertVideo(db, owner.id, { title: 'Minecraft redstone basics', viewCount: 10 });
    await insertVideo(db, owner.id, { title: 'Minecraft secret base', visibility: 'private' });
    const stream = await db
      .insertInto('streams')
      .values({ owner_id: owner.id, title: 'Minecraft speedrun live', status: 'live', started_at: new Date(), stream_key_hash: randomUUID(), stream_key_prefix: 'live_test' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const page = await app.newPage();
    await page.goto(app.url('/'));
    const box = page.getByRole('combobox', { name: 'Search videos, live streams and channels' });
    await box.fill('minec');
    const options = page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option');
    // Equal matches, most viewed first (the stream has nobody watching); the private video is never suggested.
    await expect.poll(() => options.allTextContents()).toEqual(['Video Minecraft survival island', 'Video Minecraft redstone basics', 'Live Minecraft speedrun live']);
    await expect.poll(() => box.getAttribute('aria-expanded')).toBe('true');
    await expectAccessible(page);

    await box.press('ArrowDown');
    await box.press('ArrowDown');
    expect(await box.getAttribute('aria-activedescendant')).toBe(await options.nth(1).getAttribute('id'));
    expect(await options.nth(1).getAttribute('aria-selected')).toBe('true');
    await box.press('Enter');
    await page.waitForURL(app.url(`/videos/${redstone}`));

    // A typo still suggests the titles; Escape closes the list and keeps the text; Enter with
    // no suggestion chosen opens the results page.
    await box.fill('minecarft');
    await expect.poll(() => options.allTextContents()).toEqual(['Video Minecraft survival island', 'Video Minecraft redstone basics', 'Live Minecraft speedrun live']);
    await box.press('Escape');
    expect(await box.getAttribute('aria-expanded')).toBe('false');
    expect(await box.inputValue()).toBe('minecarft');
    await box.press('Enter');
    await page.waitForURL(app.url('/search?q=minecarft'));
    await page.getByRole('heading', { name: 'Results for “minecarft”' }).waitFor();
    await page.getByText('No exact matches; showing similar titles and names.').waitFor();
    const results = page.getByRole('list', { name: 'Results' }).getByRole('link');
    await expect.poll(() => results.allTextContents()).toEqual(['Minecraft survival island', 'Minecraft redstone basics', 'Live Minecraft speedrun live']);
    await expectAccessible(page);
    await expectFitsPhone(page);

    // Tabs narrow the kind; the current one is marked.
    const tabs = page.getByRole('navigation', { name: 'Result types' });
    await tabs.getByRole('link', { name: 'Videos' }).click();
    await page.waitForURL(app.url('/search?q=minecarft&type=video'));
    expect(await tabs.getByRole('link', { name: 'Videos' }).getAttribute('aria-current')).toBe('page');
    await expect.poll(() => results.allTextContents()).toEqual(['Minecraft survival island', 'Minecraft redstone basics']);
    await tabs.getByRole('link', { name: 'Live' }).click();
    await page.waitForURL(app.url('/search?q=minecarft&type=stream'));
    await expect.poll(() => results.allTextContents()).toEqual(['Live Minecraft speedrun live']);
    await results.first().click();
    await page.waitForURL(app.url(`/streams/${stream.id}`));
  }, 120_000);

  it('shows what is trending on the home page, as the trending recompute ranked it', async () => {
    const owner = await registerByApi(app);
    const db = app.ctx.db;
    const title = `Trending now ${randomUUID().slice(0, 8)}`;
    const hot = await insertVideo(db, owner.id, { title });
    // Public and ready, but nobody watched it: not trending.
    await insertVideo(db, owner.id, { title: `${title} (quiet)` });
    // Two hundred fresh views: far above what any other test's video gathers, so it leads the list.
    await sql`insert into video_views (video_id, viewer, viewed_at, rolled_up)
      select ${hot}, 'd:' || g, now(), true from generate_series(1, 200) g`.execute(db);
    await recomputeTrending(db, { halfLifeHours: 24, windowHours: 72 }, new Date());

    const page = await app.newPage();
    await page.goto(app.url('/'));
    const trending = page.getByRole('region', { name: 'Trending' });
    await trending.getByRole('link', { name: title, exact: true }).first().waitFor();
    expect(await trending.getByRole('link', { name: `${title} (quiet)` }).count()).toBe(0);
    await trending.getByRole('link', { name: title, exact: true }).first().click();
    await page.waitForURL(app.url(`/videos/${hot}`));
  }, 60_000);

  it('offers what viewers of a video also watched under "Up next" on its page', async () => {
    const owner = await registerByApi(app);
    const db = app.ctx.db;
    const suffix = randomUUID().slice(0, 8);
    const source = await insertVideo(db, owner.id, { title: `Opening ${suffix}` });
    const alsoWatched = await insertVideo(db, owner.id, { title: `Sequel ${suffix}` });
    const viewers = await insertBulkUsers(db, 2);
    await db
      .insertInto('watch_history')
      .values(viewers.flatMap((user_id) => [source, alsoWatched].map((video_id) => ({ user_id, video_id, position_seconds: 1 }))))
      .execute();

    const page = await app.newPage();
    await page.goto(app.url(`/videos/${source}`));
    const upNext = page.getByRole('region', { name: 'Up next' });
    await upNext.getByRole('link', { name: `Sequel ${suffix}` }).waitFor();
    await upNext.getByText('Viewers of this also watched').waitFor();
    await expectAccessible(page);
    await upNext.getByRole('link', { name: `Sequel ${suffix}` }).click();
    await page.waitForURL(app.url(`/videos/${alsoWatched}`));
    await page.getByRole('heading', { name: `Sequel ${suffix}`, level: 1 }).waitFor();
  }, 60_000);
});
