import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { h264, mediaDir, testPattern, tone } from '../support/media.ts';
import { newPerson, useBrowserApp } from './support/harness.ts';
import { accountMenu, horizontalOverflow, recordTexts, registerThroughPage, seriousViolations, startPlaying, type VideoElement } from './support/pages.ts';

// The upload journey in Chromium against real api, gateway, workers, MinIO and FFmpeg: pick a
// file, watch it upload (presigned PUT) and transcode (percent pushed over the socket), then
// play it with hls.js. Then liking from the watch pages (video and stream).

const app = useBrowserApp({ workers: true });
const media = mediaDir('browser-upload');
afterAll(() => media.remove());

describe('upload and watch', () => {
  it('uploads a clip with a progress bar, shows the transcode percent live, then plays a real rendition', async () => {
    const clip = await media.generate('clip.mp4', [...testPattern('640x360', 25, 6), ...tone(6), ...h264, '-c:a', 'aac', '-shortest']);
    const page = await app.newPage();
    const progressFrames: number[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as { type: string; percent?: number };
        if (frame.type === 'progress') progressFrames.push(frame.percent!);
      }),
    );
    await registerThroughPage(app, page);
    await page.getByRole('link', { name: 'Upload', exact: true }).click();
    await page.getByLabel('Video file').setInputFiles(clip);
    await page.getByLabel('Title').fill('Test pattern');
    const uploadPercents = await recordTexts(page, 'upload-percent');
    const transcodePercents = await recordTexts(page, 'transcode-percent');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();

    // The watch page of the new video: transcoding, then the player.
    await page.waitForURL(/\/videos\/[0-9a-f-]{36}$/);
    const video = page.getByTestId('player');
    await video.waitFor({ timeout: 120_000 });
    expect(await uploadPercents()).toContain('100%');
    expect((await uploadPercents()).every((p) => /^\d+%$/.test(p))).toBe(true);
    // The owner's socket got the transcode's progress, and the page showed it.
    expect(progressFrames.length).toBeGreaterThan(0);
    const shown = (await transcodePercents()).map((p) => Number.parseInt(p, 10));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.some((p) => progressFrames.includes(p) && p > 0)).toBe(true);

    // It plays: time advances and the picture is a rendition's height.
    await startPlaying(video);
    await expect.poll(() => video.evaluate((v: VideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(1);
    expect(await video.evaluate((v: VideoElement) => v.videoHeight)).toBe(360);

    // The quality menu lists the renditions hls.js found.
    const quality = page.getByLabel('Quality');
    if (await quality.count()) expect(await quality.locator('option').allTextContents()).toContain('Auto');

    // The watch page passes axe, and fits a phone.
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await horizontalOverflow(page)).toBe(0);

    // It is listed on the person's upload page as ready.
    await page.getByRole('link', { name: 'Upload', exact: true }).click();
    await page.getByRole('row', { name: /Test pattern.*ready/ }).waitFor();
  }, 240_000);

  it('likes a video and a stream from their watch pages: signed out goes to sign-in, the count and the row survive a reload', async () => {
    const owner = newPerson();
    const res = await fetch(app.url('/api/v1/auth/register'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(owner) });
    expect(res.status).toBe(201);
    const ownerId = ((await res.json()) as { data: { user: { id: string } } }).data.user.id;
    // Rows made directly: the likes are about the pages, not the media.
    const video = await app.ctx.db
      .insertInto('videos')
      .values({ owner_id: ownerId, title: 'Likeable', source: 'upload', source_key: `uploads/${randomUUID()}`, status: 'ready', visibility: 'public', source_size_bytes: null, failure_reason: null, duration_seconds: 5, width: 320, height: 240, master_playlist_key: 'v/master.m3u8', poster_key: null, storyboard_key: null, idempotency_key: null, ready_at: new Date(), deleted_at: null, moderation_hidden_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const stream = await app.ctx.db
      .insertInto('streams')
      .values({ owner_id: ownerId, title: 'Likeable broadcast', status: 'ended', stream_key_hash: randomUUID(), stream_key_prefix: 'live_test' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const page = await app.newPage();
    const likeButton = page.getByRole('button', { name: 'Like', exact: true });
    const count = page.getByTestId('like-count');
    const viewer = newPerson();
    await registerThroughPage(app, page, viewer);
    await accountMenu(page, viewer.username).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();

    // Signed out: the count shows, and Like leads to sign-in and back.
    await page.goto(app.url(`/videos/${video.id}`));
    await expect.poll(() => count.textContent()).toBe('0 likes');
    // One whole-suite run on a loaded machine lost this click (the URL never changed, and a
    // screenshot showed the signed-out page as expected); Playwright clicks a point, and the page
    // may still be laying out. What is tested is that a click on Like leads to sign-in.
    await vi.waitFor(
      async () => {
        await likeButton.click();
        await page.waitForURL(/\/sign-in\?next=/, { timeout: 5_000 });
      },
      { timeout: 30_000, interval: 100 },
    );
    await page.getByLabel('Email or username').fill(viewer.username);
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/videos/${video.id}$`));

    const likeAndReload = async (target: 'video' | 'stream', id: string) => {
      await expect.poll(() => likeButton.getAttribute('aria-pressed')).toBe('false');
      await likeButton.click();
      await expect.poll(() => likeButton.getAttribute('aria-pressed')).toBe('true');
      expect(await count.textContent()).toBe('1 like');
      await page.reload();
      await expect.poll(() => likeButton.getAttribute('aria-pressed')).toBe('true');
      expect(await count.textContent()).toBe('1 like');
      const rows =
        target === 'video'
          ? await app.ctx.db.selectFrom('video_likes').select('user_id').where('video_id', '=', id).execute()
          : await app.ctx.db.selectFrom('stream_likes').select('user_id').where('stream_id', '=', id).execute();
      expect(rows).toHaveLength(1);
      const counter = await app.ctx.db.selectFrom(`${target}s`).select('like_count').where('id', '=', id).executeTakeFirstOrThrow();
      expect(counter.like_count).toBe(1);
    };
    await likeAndReload('video', video.id);
    expect(await seriousViolations(page)).toEqual([]);

    await page.goto(app.url(`/streams/${stream.id}`));
    await likeAndReload('stream', stream.id);
    expect(await seriousViolations(page)).toEqual([]);
    await checkUnlike(page);
    expect(await app.ctx.db.selectFrom('stream_likes').select('user_id').where('stream_id', '=', stream.id).execute()).toEqual([]);
  }, 120_000);
});

/** Unliking: the toggle and the count go back, and stay back after a reload. */
async function checkUnlike(page: Page) {
  const likeButton = page.getByRole('button', { name: 'Like', exact: true });
  await likeButton.click();
  await expect.poll(() => likeButton.getAttribute('aria-pressed')).toBe('false');
  expect(await page.getByTestId('like-count').textContent()).toBe('0 likes');
  await page.reload();
  await expect.poll(() => page.getByTestId('like-count').textContent()).toBe('0 likes');
  expect(await likeButton.getAttribute('aria-pressed')).toBe('false');
}
