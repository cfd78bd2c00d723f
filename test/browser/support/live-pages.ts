// Steps of the live pages' tests: a private nginx-rtmp for the browser app, the dashboard's
// create-a-stream, the watch page's player and chat, and axe.
import type { Page } from 'playwright-core';
import type { TestContext } from '../../support/context.ts';
import { startNginx, type TestNginx } from '../../support/nginx.ts';
import type { BrowserApp } from './harness.ts';

/**
 * For `useBrowserApp({ prepare })`: an nginx-rtmp whose hooks call the app's API, the API's
 * public RTMP and HLS URLs pointed at it, and the workers at its control port and recordings.
 */
export function liveIngest() {
  const live = { nginx: undefined as TestNginx | undefined };
  const prepare = async (ctx: TestContext, origin: string) => {
    const nginx = await startNginx(origin, ctx.config.internalSecret);
    live.nginx = nginx;
    ctx.config.rtmpControlUrl = nginx.controlUrl;
    ctx.config.rtmpRecordingsDir = nginx.recordingsDir;
    ctx.config.rtmpHlsDir = nginx.hlsDir;
    return {
      PUBLIC_RTMP_URL: nginx.rtmpUrl,
      PUBLIC_HLS_URL: nginx.hlsUrl,
      RTMP_RELAY_URL: nginx.relayUrl,
      RTMP_CONTROL_URL: nginx.controlUrl,
      RTMP_RECORDINGS_DIR: nginx.recordingsDir,
      RTMP_HLS_DIR: nginx.hlsDir,
      INTERNAL_SECRET: ctx.config.internalSecret,
    };
  };
  return { live, prepare, stop: () => live.nginx?.stop() };
}

/** Creates a stream in the dashboard as a person does; returns what the page shows once. */
export async function createStreamInDashboard(app: BrowserApp, page: Page, title: string) {
  await page.goto(app.url('/dashboard'));
  await page.getByLabel('Title').fill(title);
  await page.getByRole('button', { name: 'Create stream' }).click();
  const ingestUrl = await page.getByRole('textbox', { name: 'Ingest URL', exact: true }).inputValue();
  const streamKey = await page.getByRole('textbox', { name: 'Stream key', exact: true }).inputValue();
  const watchUrl = (await page.getByRole('link', { name: /\/streams\// }).getAttribute('href')) ?? '';
  return { ingestUrl, streamKey, watchUrl, obs: await page.getByRole('textbox', { name: 'OBS settings', exact: true }).inputValue() };
}

/**
 * Waits until the live player has played `seconds` continuously: its position grew that much
 * in steps of real playback (a seek or a fresh player after a reconnect starts the count anew).
 */
export async function waitForPlayback(page: Page, seconds = 1, timeout = 120_000) {
  const token = Math.random().toString(36).slice(2);
  await page.waitForFunction(
    ({ token, seconds }) => {
      const g = globalThis as unknown as Record<string, { start: number; prev: number; at: number } | undefined> & {
        document: { querySelector(s: string): { currentTime: number } | null };
        performance: { now(): number };
      };
      const video = g.document.querySelector('[data-testid="live-player"]');
      if (!video) return false;
      const now = video.currentTime;
      const at = g.performance.now();
      const seen = (g[`playback-${token}`] ??= { start: now, prev: now, at });
      // A step back, or further than the wall clock moved, is a jump (a seek, a new player), not playback.
      if (now < seen.prev || now - seen.prev > (at - seen.at) / 1000 + 0.5) seen.start = now;
      seen.prev = now;
      seen.at = at;
      return now - seen.start >= seconds;
    },
    { token, seconds },
    { timeout, polling: 100 },
  );
}

export async function sendChat(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Chat message', exact: true }).fill(text);
  // Exactly "Send": the page also has "Send gift" and "Send tip".
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** A stored message in the chat list (not the live region that reads it out). */
export const chatMessage = (page: Page, text: string) => page.getByRole('list', { name: 'Chat messages' }).locator('li[data-message-id]').filter({ hasText: text });

/** The chat's stored messages as "user: text" lines. */
export const chatLines = (page: Page) =>
  page
    .getByRole('list', { name: 'Chat messages' })
    .locator('li[data-message-id]')
    .evaluateAll((items) => items.map((li) => `${li.querySelector('.chat-author')?.textContent}: ${li.querySelector('.chat-text')?.textContent}`));

