import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerByApi, signInThroughPage } from './support/pages.ts';

// Playlists in the browser against the real API: save videos to watch later and to a new
// playlist from their watch pages, find the playlist in the user menu, reorder it with the
// Move up/down buttons, remove a video, make it public; another person reads it, not changes it.

const app = useBrowserApp();
// The machine is shared and slow: a save is a write and a re-read.
const WAIT = { timeout: 30_000 };

const order = (page: Page) => page.getByRole('list', { name: 'Videos in play order' }).getByRole('link').allTextContents();

async function saveTo(page: Page, videoId: string, title: string, playlist: string) {
  await page.goto(app.url(`/videos/${videoId}`));
  await page.getByRole('heading', { name: title }).waitFor();
  await page.getByText('Save', { exact: true }).click();
  const box = page.getByRole('checkbox', { name: playlist });
  await box.check();
  await expect.poll(() => box.isChecked(), WAIT).toBe(true);
  await expect.poll(() => box.isEnabled(), WAIT).toBe(true);
}

describe('playlists in the browser', { timeout: 300_000 }, () => {
  it('saves videos from their pages, reorders and edits a playlist, and shows it to others read-only', async () => {
    const creator = await registerByApi(app);
    const titles = ['First clip', 'Second clip', 'Third clip'];
    const ids = await Promise.all(titles.map((title) => insertVideo(app.ctx.db, creator.id, { title })));
    const person = await registerByApi(app);
    const page = await app.newPage();
    await signInThroughPage(app, page, person);

    // Watch later and a new playlist, from the first video's page.
    await page.goto(app.url(`/videos/${ids[0]}`));
    await page.getByRole('heading', { name: titles[0] }).waitFor();
    await page.getByText('Save', { exact: true }).click();
    const watchLater = page.getByRole('checkbox', { name: 'Watch later' });
    await watchLater.check();
    await expect.poll(() => watchLater.isChecked(), WAIT).toBe(true);
    await page.getByLabel('New playlist').fill('Road trip');
    await page.getByRole('button', { name: 'Create and save' }).click();
    await expect.poll(() => page.getByRole('checkbox', { name: 'Road trip' }).isChecked(), WAIT).toBe(true);
    await expectAccessible(page);
    await expectFitsPhone(page);
    for (const i of [1, 2]) await saveTo(page, ids[i]!, titles[i]!, 'Road trip');

    // The user menu leads to the list, the list to the playlist.
    await accountMenu(page, person.username).click();
    await page.getByRole('link', { name: 'Your playlists' }).click();
    const lists = page.getByRole('list', { name: 'Your playlists' });
    await lists.getByRole('link', { name: 'Watch later' }).waitFor();
    expect(await lists.getByRole('listitem').filter({ hasText: 'Road trip' }).textContent()).toContain('3 videos');
    await expectAccessible(page);
    await expectFitsPhone(page);
    await lists.getByRole('link', { name: 'Road trip' }).click();
    await page.getByRole('heading', { name: 'Road trip' }).waitFor();
    // The heading comes with the playlist; its items are a query of their own.
    await expect.poll(() => order(page), WAIT).toEqual(titles);

    await page.getByRole('button', { name: 'Move up: Third clip' }).click();
    await expect.poll(() => order(page), WAIT).toEqual(['First clip', 'Third clip', 'Second clip']);
    await page.getByRole('button', { name: 'Move down: First clip' }).click();
    await expect.poll(() => order(page), WAIT).toEqual(['Third clip', 'First clip', 'Second clip']);
    await page.getByRole('button', { name: 'Remove: Second clip' }).click();
    await expect.poll(() => order(page), WAIT).toEqual(['Third clip', 'First clip']);

    await page.getByText('Edit playlist').click();
    await page.getByLabel('Description').fill('For the long drive');
    await page.getByLabel('Visibility').selectOption('public');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByText('Public ·').waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    const playlistUrl = new URL(page.url()).pathname;
    const stored = await app.ctx.db.selectFrom('playlists').select(['visibility', 'description']).where('owner_id', '=', person.id).where('kind', '=', 'regular').executeTakeFirstOrThrow();
    expect(stored).toEqual({ visibility: 'public', description: 'For the long drive' });

    // Another visitor (signed out) reads it in the same order, without the owner's buttons.
    const visitor = await app.newPage();
    await visitor.goto(app.url(playlistUrl));
    await visitor.getByRole('heading', { name: 'Road trip' }).waitFor();
    // The items are a query of their own: they may come after the heading.
    await expect.poll(() => order(visitor), WAIT).toEqual(['Third clip', 'First clip']);
    expect(await visitor.getByRole('button', { name: /^Move up/ }).count()).toBe(0);
    await expectAccessible(visitor);
  });
});
