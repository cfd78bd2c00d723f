import { afterAll, describe, expect, it } from 'vitest';
import { h264, mediaDir, testPattern, tone } from '../support/media.ts';
import { useBrowserApp } from './support/harness.ts';
import { horizontalOverflow, recordTexts, registerThroughPage, seriousViolations, type VideoElement } from './support/pages.ts';

// The upload journey in Chromium against real api, gateway, workers, MinIO and FFmpeg: pick a
// file, watch it upload (presigned PUT) and transcode (percent pushed over the socket), then
// play it with hls.js.

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
    await video.evaluate((v: VideoElement) => {
      v.muted = true;
      return v.play();
    });
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
});
