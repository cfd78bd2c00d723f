import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Page } from 'playwright-core';
import { sleep } from '../../lib/async.ts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropEncoder, takeLiveThumbnails } from '../support/live.ts';
import { publishTestPattern } from '../support/nginx.ts';
import { useBrowserApp } from './support/harness.ts';
import { chatLines, chatMessage, createStreamInDashboard, liveIngest, sendChat, waitForPlayback } from './support/live-pages.ts';
import { seriousViolations } from './support/pages.ts';
import { registerThroughPage } from './support/pages.ts';

// The live side of the web app against the real stack: the dashboard creates a stream, FFmpeg
// publishes to the ingest URL and key the page shows into a private nginx-rtmp, the stream
// workflow runs on real workers, and viewers in their own browser contexts watch and chat
// through a real gateway.

const ingest = liveIngest();
const app = useBrowserApp({ workers: true, prepare: ingest.prepare });
afterAll(() => ingest.stop());

const encoders: ChildProcess[] = [];
const stopRepublishing: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stopRepublishing.splice(0)) stop();
  await Promise.all(encoders.splice(0).map((e) => dropEncoder(e)));
});
const publish = (ingestUrl: string, key: string) => {
  const encoder = publishTestPattern(ingestUrl, key);
  encoders.push(encoder);
  return encoder;
};

/**
 * Publishes until the test ends, starting the encoder again a second after nginx drops or
 * refuses it, as OBS's automatic reconnect does (on by default): on a loaded machine nginx-rtmp
 * may give up on a slow publish hook after the page already showed the stream live.
 */
function keepPublishing(ingestUrl: string, key: string): void {
  let stopped = false;
  stopRepublishing.push(() => {
    stopped = true;
  });
  const start = () => {
    if (stopped) return;
    publish(ingestUrl, key).once('exit', () => {
      if (!stopped) setTimeout(start, 1000);
    });
  };
  start();
}

/**
 * Publishes until the page shows the stream live, starting the encoder again whenever it is
 * refused, as OBS does: on a loaded machine nginx-rtmp may give up on a slow publish hook.
 */
async function publishUntilLive(page: Page, ingestUrl: string, key: string): Promise<void> {
  // Rejects (failing the test) if the page never shows it live.
  const shownLive = page.getByTestId('stream-status').getByText('LIVE').waitFor({ timeout: 180_000 }).then(() => 'live' as const);
  for (;;) {
    const encoder = publish(ingestUrl, key);
    const refused = once(encoder, 'exit').then(() => 'refused' as const);
    if ((await Promise.race([shownLive, refused])) === 'live') return;
    await sleep(1000);
  }
}

describe('live streams in the browser', { timeout: 240_000 }, () => {
  it('goes live from the dashboard: viewers watch and chat, are counted, and a follower’s bell lights up', async () => {
    const creatorPage = await app.newPage();
    await registerThroughPage(app, creatorPage);
    const shown = await createStreamInDashboard(app, creatorPage, 'Browser live test');
    expect(shown.ingestUrl).toBe(ingest.live.nginx?.rtmpUrl);
    expect(shown.streamKey).toMatch(/^live_/);
    expect(shown.obs).toContain(shown.streamKey);
    expect(shown.watchUrl).toMatch(/\/streams\/[0-9a-f-]{36}$/);
    expect(await seriousViolations(creatorPage)).toEqual([]);

    // A follower (following before the stream starts) and a second viewer, both signed in.
    const fanPage = await app.newPage();
    const fan = await registerThroughPage(app, fanPage);
    await fanPage.goto(shown.watchUrl);
    await fanPage.getByRole('button', { name: 'Follow' }).click();
    await fanPage.getByRole('button', { name: 'Following' }).waitFor();
    // The second viewer is on a phone: the chat goes below the player.
    const otherPage = await app.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const other = await registerThroughPage(app, otherPage);
    await otherPage.goto(shown.watchUrl);
    expect(await fanPage.getByTestId('stream-status').textContent()).toBe('Not live yet');

    keepPublishing(shown.ingestUrl, shown.streamKey);

    // Both pages switch to the live player on the `stream_status` frame and play.
    for (const page of [fanPage, otherPage]) {
      await page.getByTestId('stream-status').getByText('LIVE').waitFor({ timeout: 60_000 });
      await waitForPlayback(page, 1);
    }
    // The follower's bell, fed by the `notification` frame of stream_live.
    await fanPage.getByRole('link', { name: 'Notifications, 1 unread' }).waitFor({ timeout: 60_000 });

    // The two chat with each other.
    // A sender's own line stays "sending…" until the gateway acknowledges it, which may come
    // after the other viewer already has it: wait for both pages' stored line.
    await sendChat(fanPage, 'hello from the fan');
    for (const page of [otherPage, fanPage]) await chatMessage(page, 'hello from the fan').waitFor();
    await sendChat(otherPage, 'hi back');
    for (const page of [fanPage, otherPage]) await chatMessage(page, 'hi back').waitFor();
    expect(await fanPage.locator('.chat-pending').count()).toBe(0);
    expect(await chatLines(fanPage)).toEqual([`${fan.username}: hello from the fan`, `${other.username}: hi back`]);
    expect(await chatLines(otherPage)).toEqual(await chatLines(fanPage));

    // Two signed-in viewers (the creator's dashboard is in no room).
    for (const page of [fanPage, otherPage]) await page.getByTestId('viewer-count').getByText('2 watching').waitFor({ timeout: 30_000 });

    // The home page's live card shows the still the live-thumbnails Schedule takes every minute.
    expect(await takeLiveThumbnails(app.ctx)).toMatchObject({ captured: 1, failed: 0, errors: [] });
    const homePage = await app.newPage();
    await homePage.goto(app.url('/'));
    const still = homePage.getByRole('region', { name: 'Live now' }).locator('li.card', { hasText: 'Browser live test' }).locator('img');
    await expect.poll(() => still.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 30_000 }).toBe(640);

    expect(await seriousViolations(otherPage)).toEqual([]);
    const player = await otherPage.getByTestId('live-player').boundingBox();
    const chat = await otherPage.getByRole('region', { name: 'Chat' }).boundingBox();
    expect(chat!.y).toBeGreaterThanOrEqual(player!.y + player!.height);
    expect(await otherPage.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    })).toBe(0);

    // The creator moderates from the dashboard: a deleted message leaves every viewer's chat.
    await creatorPage.goto(app.url('/dashboard'));
    await creatorPage.getByRole('button', { name: 'Moderate chat' }).click();
    await creatorPage.getByRole('button', { name: `Delete message from ${fan.username}: hello from the fan` }).click();
    for (const page of [fanPage, otherPage]) await chatMessage(page, 'hello from the fan').waitFor({ state: 'detached' });
    expect(await chatLines(otherPage)).toEqual([`${other.username}: hi back`]);
    expect(await seriousViolations(creatorPage)).toEqual([]);

    // The notification page lists it, and marking it read puts the bell out.
    await fanPage.getByRole('link', { name: 'Notifications, 1 unread' }).click();
    await fanPage.getByRole('link', { name: 'Live now: Browser live test' }).waitFor();
    await fanPage.getByRole('button', { name: 'Mark all read' }).click();
    await fanPage.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
  });

  it('shows reconnecting while the encoder is away and resumes playback; chat sent meanwhile arrives once', async () => {
    const creatorPage = await app.newPage();
    await registerThroughPage(app, creatorPage);
    const shown = await createStreamInDashboard(app, creatorPage, 'Reconnect test');
    const viewerPage = await app.newPage();
    const viewer = await registerThroughPage(app, viewerPage);
    const otherPage = await app.newPage();
    const other = await registerThroughPage(app, otherPage);
    await viewerPage.goto(shown.watchUrl);
    await otherPage.goto(shown.watchUrl);

    const first = publish(shown.ingestUrl, shown.streamKey);
    await viewerPage.getByTestId('stream-status').getByText('LIVE').waitFor({ timeout: 60_000 });
    await waitForPlayback(viewerPage, 1);

    await dropEncoder(first);
    await viewerPage.getByTestId('stream-status').getByText(/Reconnecting/).waitFor({ timeout: 30_000 });
    expect(await viewerPage.getByText('Reconnecting…').isVisible()).toBe(true);

    // Chat does not depend on the encoder: a message sent while it is away reaches the other viewer.
    await sendChat(otherPage, 'still here?');
    await chatMessage(viewerPage, 'still here?').waitFor();

    await publishUntilLive(viewerPage, shown.ingestUrl, shown.streamKey);
    await waitForPlayback(viewerPage, 1);
    await sendChat(viewerPage, 'welcome back');
    for (const page of [otherPage, viewerPage]) await chatMessage(page, 'welcome back').waitFor();
    expect(await chatLines(viewerPage)).toEqual([`${other.username}: still here?`, `${viewer.username}: welcome back`]);
  });

  it('says which rule refused a chat message: too long, then slow mode', async () => {
    const creatorPage = await app.newPage();
    await registerThroughPage(app, creatorPage);
    const shown = await createStreamInDashboard(app, creatorPage, 'Rules test');
    await creatorPage.getByRole('button', { name: 'I have saved it' }).click();
    await creatorPage.getByLabel(/Slow mode/).fill('30');
    await creatorPage.getByRole('button', { name: 'Set slow mode' }).click();
    await creatorPage.getByText('slow mode 30 s').waitFor();

    const viewerPage = await app.newPage();
    await registerThroughPage(app, viewerPage);
    await viewerPage.goto(shown.watchUrl);
    await viewerPage.getByText('Slow mode: one message every 30 s').waitFor();

    await sendChat(viewerPage, 'x'.repeat(501));
    const tooLong = viewerPage.getByRole('alert').filter({ hasText: 'Not sent' });
    await tooLong.waitFor();
    expect(await tooLong.textContent()).toContain('Too long: a message may have at most 500 characters.');
    await viewerPage.getByRole('button', { name: 'Dismiss' }).click();

    await sendChat(viewerPage, 'first');
    await chatMessage(viewerPage, 'first').waitFor();
    await sendChat(viewerPage, 'second');
    const slow = viewerPage.getByRole('alert').filter({ hasText: 'Not sent' });
    await slow.waitFor();
    expect(await slow.textContent()).toMatch(/Slow mode is on: one message per interval\. Try again in \d+ s\./);
    expect(await seriousViolations(viewerPage)).toEqual([]);
  });

  it('an age-restricted stream: signed out, a sign-in prompt and nothing to play; signed in, a warning, then it plays with the token nginx asks for', async () => {
    const creatorPage = await app.newPage();
    await registerThroughPage(app, creatorPage);
    const shown = await createStreamInDashboard(app, creatorPage, 'Restricted live test');
    const streamId = /([0-9a-f-]{36})$/.exec(shown.watchUrl)![1]!;
    await app.ctx.db.updateTable('streams').set({ age_restricted_at: new Date() }).where('id', '=', streamId).execute();

    const viewerPage = await app.newPage();
    await registerThroughPage(app, viewerPage);
    await viewerPage.goto(app.url(`/streams/${streamId}`));
    await publishUntilLive(viewerPage, shown.ingestUrl, shown.streamKey);
    const gate = viewerPage.getByRole('region', { name: 'Age-restricted stream' });
    await gate.waitFor();
    expect(await viewerPage.getByTestId('live-player').count()).toBe(0);
    expect(await seriousViolations(viewerPage)).toEqual([]);
    await gate.getByRole('button', { name: 'Watch anyway' }).click();
    await waitForPlayback(viewerPage, 2);
    // It played through the token: nginx refuses the playlist without one.
    expect((await fetch(`${ingest.live.nginx!.hlsUrl}/${streamId}.m3u8`)).status).toBe(403);

    const anonymousPage = await app.newPage();
    await anonymousPage.goto(app.url(`/streams/${streamId}`));
    const anonymousGate = anonymousPage.getByRole('region', { name: 'Age-restricted stream' });
    await anonymousGate.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(await anonymousGate.getByRole('button').count()).toBe(0);
    expect(await anonymousPage.getByTestId('live-player').count()).toBe(0);
    expect(await seriousViolations(anonymousPage)).toEqual([]);
  });
});
