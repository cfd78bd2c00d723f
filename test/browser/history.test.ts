import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { newUser } from '../support/fixtures.ts';
import { h264, mediaDir, testPattern } from '../support/media.ts';
import { settledVideo, submitVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerThroughPage, startPlaying, type VideoElement } from './support/pages.ts';

// Watching in Chromium against the real API and workers: the player's heartbeats count a view
// and record the position, the history page lists it, a reload resumes there, and the history
// can be pruned and cleared.

const app = useBrowserApp({ workers: true });
const media = mediaDir('browser-history');
afterAll(() => media.remove());

const player = (page: Page) => page.getByTestId('player');

/** Where the person's last heartbeat put them in the video, as stored. */
async function storedPosition(username: string, videoId: string): Promise<number | undefined> {
  const row = await app.ctx.db
    .selectFrom('watch_history')
    .innerJoin('users', 'users.id', 'watch_history.user_id')
    .select('position_seconds')
    .where('users.username', '=', username)
    .where('video_id', '=', videoId)
    .executeTakeFirst();
  return row?.position_seconds;
}

/** Plays from where the page put the player until past `seconds`, then pauses; the pause's heartbeat stores the position. */
async function playUntil(page: Page, username: string, videoId: string, seconds: number) {
  await startPlaying(player(page));
  await expect.poll(() => player(page).evaluate((v: VideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(seconds);
  await player(page).evaluate((v: VideoElement & { pause(): void }) => v.pause());
  const at = await player(page).evaluate((v: VideoElement) => v.currentTime);
  await expect.poll(() => storedPosition(username, videoId), { timeout: 15_000 }).toBeCloseTo(at, 1);
  return at;
}

describe('watch history', () => {
  it('counts a view, lists it with its position, resumes there after a reload, then removes and clears', async () => {
    // Two videos of a creator, transcoded by the real workers (40 s: well before the finished stretch).
    const api = createApp(app.ctx.apiDeps());
    const owner = await newUser(api);
    const clip = await media.generate('clip.mp4', [...testPattern('320x180', 15, 40), ...h264]);
    const ids = [await submitVideo(api, owner, clip, { title: 'First clip' }), await submitVideo(api, owner, clip, { title: 'Second clip' })];
    for (const id of ids) expect((await settledVideo(api, owner, id, 240_000)).video.status).toBe('ready');

    const page = await app.newPage();
    const person = await registerThroughPage(app, page);
    const stoppedAt: number[] = [];
    for (const [i, id] of ids.entries()) {
      await page.goto(app.url(`/videos/${id}`));
      await expect.poll(() => page.getByTestId('view-count').textContent()).toBe('0 views');
      stoppedAt.push(await playUntil(page, person.username, id, 2 + i));
    }
    // The first play counted a view: the page shows it once read again.
    await page.reload();
    await expect.poll(() => page.getByTestId('view-count').textContent()).toBe('1 view');

    // History, from the user menu: newest first, each with where it stopped.
    await accountMenu(page, person.username).click();
    await page.getByRole('link', { name: 'Watch history' }).click();
    await page.waitForURL(/\/history$/);
    const entries = page.getByRole('list', { name: 'Watch history' }).getByRole('listitem');
    await expect.poll(() => entries.count()).toBe(2);
    expect(await entries.nth(0).getByRole('link').textContent()).toBe('Second clip');
    expect(await entries.nth(1).getByRole('link').textContent()).toBe('First clip');
    expect(await entries.nth(0).getByTestId('history-position').textContent()).toMatch(/^Stopped at 0:0[3-9] of 0:40$/);
    await expectAccessible(page);
    await expectFitsPhone(page);

    // Opening it again resumes where it stopped (a reload reads it afresh).
    await entries.nth(1).getByRole('link').click();
    await page.waitForURL(new RegExp(`/videos/${ids[0]}$`));
    await page.reload();
    await expect.poll(() => player(page).evaluate((v: VideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThanOrEqual(stoppedAt[0]! - 1);
    await expectAccessible(page);

    // Remove one, then clear the rest.
    await page.goto(app.url('/history'));
    await expect.poll(() => entries.count()).toBe(2);
    await page.getByRole('button', { name: 'Remove Second clip from history' }).click();
    await expect.poll(() => entries.count()).toBe(1);
    expect(await entries.nth(0).getByRole('link').textContent()).toBe('First clip');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Clear all history' }).click();
    await page.getByText('Nothing watched yet.').waitFor();
    await page.reload();
    await page.getByText('Nothing watched yet.').waitFor();
    // Nothing left to resume either.
    await page.goto(app.url(`/videos/${ids[0]}`));
    await player(page).waitFor();
    expect(await player(page).evaluate((v: VideoElement) => v.currentTime)).toBe(0);

    // Age-restricted by moderation: a warning before the player; signed out, nothing to play.
    await app.ctx.db.updateTable('videos').set({ age_restricted_at: new Date() }).where('id', '=', ids[1]!).execute();
    await page.goto(app.url(`/videos/${ids[1]}`));
    const gate = page.getByRole('region', { name: 'Age-restricted video' });
    await gate.waitFor();
    expect(await player(page).count()).toBe(0);
    await expectAccessible(page);
    await gate.getByRole('button', { name: 'Watch anyway' }).click();
    await startPlaying(player(page));
    // Commenting reads the video again, with a freshly signed playlist URL: the player goes on
    // rather than loading that URL afresh (which would start it over).
    await player(page).evaluate((v: VideoElement & { addEventListener(type: string, listener: () => void): void; emptiedCount?: number }) => {
      v.emptiedCount = 0;
      v.addEventListener('emptied', () => void (v.emptiedCount! += 1));
    });
    await expect.poll(() => player(page).evaluate((v: VideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(2);
    await page.getByLabel('Add a comment').fill('Still watching');
    const reread = page.waitForResponse((r) => r.url().endsWith(`/api/v1/videos/${ids[1]}`) && r.request().method() === 'GET');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    const answer = (await (await reread).json()) as { data: { playbackUrl: string } };
    expect(answer.data.playbackUrl).toContain('?token=');
    // The posted comment, not the box it was typed in, which may not be cleared yet.
    await page.locator('article.comment').filter({ hasText: 'Still watching' }).waitFor();
    // Playback carries on past where it was when the new URL came (a reload would stop it at 0).
    const at = await player(page).evaluate((v: VideoElement) => v.currentTime);
    await expect.poll(() => player(page).evaluate((v: VideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(at + 1);
    expect(await player(page).evaluate((v: VideoElement & { emptiedCount?: number }) => v.emptiedCount)).toBe(0);
    const anonymous = await app.newPage();
    await anonymous.goto(app.url(`/videos/${ids[1]}`));
    await anonymous.getByRole('region', { name: 'Age-restricted video' }).getByRole('link', { name: 'Sign in' }).waitFor();
    expect(await player(anonymous).count()).toBe(0);
  }, 420_000);
});
