// The README's screenshots of the web app, taken from the running `npm start` stack with
// Debian's Chromium (the browser tests' launch options; no browser is downloaded):
//   docs/screenshots/watch-video.png  a ready video playing (a 20 s test pattern the demo
//                                     creator uploads on the first run, reused afterwards)
//   docs/screenshots/watch-live.png   a live stream FFmpeg publishes with the ingest URL and key
//                                     the dashboard shows, with two demo viewers chatting
//   docs/screenshots/dashboard.png    the demo creator's dashboard while that stream is live
// The stream is ended when the script stops (its recording becomes one of the creator's videos).
// Every step waits for what a person would see and fails loudly (exit 1) when it does not come.
// Usage: npm start (in another terminal), then npm run screenshots
import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Locator, Page } from 'playwright-core';
import { sleep } from '../lib/async.ts';
import { publishTestPattern } from '../test/support/nginx.ts';
import { chatMessage, sendChat, waitForPlayback } from '../test/browser/support/live-pages.ts';
import { accountMenu, type VideoElement } from '../test/browser/support/pages.ts';
import { launchChromium } from '../test/browser/support/harness.ts';
import { callApi } from '../bench/lib/api.ts';
import { stackEnvironment } from './stack/environment.ts';
import { repoRoot } from './stack/paths.ts';
import { DEMO_PASSWORD } from './stack/seed.ts';

const run = promisify(execFile);
const outDir = path.join(repoRoot, 'docs/screenshots');
/** A typical laptop's browser window. */
const viewport = { width: 1280, height: 800 };
const VIDEO_TITLE = 'Test pattern (demo)';
const STREAM_TITLE = 'Live test pattern (demo)';

const say = (line: string) => process.stdout.write(`${line}\n`);

const { config } = stackEnvironment();
const web = config.publicUrls.web;
const api = config.publicUrls.api;
const url = (pathname: string) => new URL(pathname, web).href;

async function stackIsUp(): Promise<void> {
  try {
    const res = await fetch(`${api}/health`, { signal: AbortSignal.timeout(10_000) });
    if (res.ok) return;
    throw new Error(`answered ${res.status}`);
  } catch (err) {
    throw new Error(`the stack at ${api} is not healthy (${err instanceof Error ? err.message : String(err)}); start it with \`npm start\` first`);
  }
}

const login = async (username: string): Promise<{ accessToken: string; user: { id: string } }> =>
  callApi(api, 'POST', '/auth/login', { login: username, password: DEMO_PASSWORD });

/** The demo creator's ready test-pattern video: uploaded and transcoded on the first run only. */
async function demoVideo(token: string, ownerId: string): Promise<string> {
  const videos: { id: string; title: string; status: string }[] = await callApi(api, 'GET', `/videos?ownerId=${ownerId}&limit=100`, undefined, token);
  const existing = videos.find((v) => v.title === VIDEO_TITLE && v.status === 'ready');
  if (existing) {
    say(`  reusing the ready video ${existing.id}`);
    return existing.id;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'screenshots-'));
  try {
    say('  uploading a 20 s 720p test pattern and waiting for its transcode…');
    const source = path.join(work, 'source.mp4');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=20',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=20', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', source]);
    const { video, uploadUrl } = await callApi(api, 'POST', '/videos', { title: VIDEO_TITLE, description: 'FFmpeg’s testsrc2 with a 440 Hz tone.' }, token);
    const put = await fetch(uploadUrl, { method: 'PUT', body: await readFile(source) });
    if (!put.ok) throw new Error(`the upload to S3 failed: ${put.status}`);
    await callApi(api, 'POST', `/videos/${video.id}/complete`, undefined, token);
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const current = await callApi(api, 'GET', `/videos/${video.id}`, undefined, token);
      if (current.status === 'ready') return video.id as string;
      if (current.status === 'failed') throw new Error(`the transcode failed: ${current.failureReason}`);
      await sleep(1000);
    }
    throw new Error(`video ${video.id} was not ready within 5 minutes (are the workers running?)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Ends the demo streams an interrupted earlier run left on air, so the dashboard shows one. */
async function endDemoStreams(token: string, ownerId: string): Promise<void> {
  const streams: { id: string; title: string; status: string }[] = await callApi(api, 'GET', `/streams?ownerId=${ownerId}&limit=100`, undefined, token);
  for (const s of streams.filter((s) => s.title === STREAM_TITLE && !['ended', 'cancelled'].includes(s.status))) {
    await callApi(api, 'POST', `/streams/${s.id}/end`, undefined, token).catch((err: Error) => say(`  could not end stream ${s.id}: ${err.message}`));
  }
}

async function signedInPage(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  page.on('pageerror', (e) => say(`  [${username}'s page] error: ${e.message}`));
  await page.goto(url('/sign-in'));
  await page.getByLabel('Email or username').fill(username);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await accountMenu(page, username).waitFor();
  return page;
}

/**
 * The page as shown at the laptop's width, down to the bottom of `upTo` (default: the window),
 * as a PNG of at most 256 colours (FFmpeg's palette: a fraction of Chromium's size for these
 * flat pages and test patterns).
 */
async function screenshot(page: Page, name: string, upTo?: Locator): Promise<void> {
  const file = path.join(outDir, name);
  const raw = `${file}.raw.png`;
  await page.mouse.move(0, 0); // no hover state
  await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
  const box = upTo && (await upTo.boundingBox());
  if (upTo && !box) throw new Error(`${name}: what the picture should end with is not on the page`);
  const height = box ? Math.ceil(box.y + box.height + 24) : viewport.height;
  await page.screenshot({ path: raw, animations: 'disabled', caret: 'hide', fullPage: true, clip: { x: 0, y: 0, width: viewport.width, height } });
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', raw, '-vf', 'split[a][b];[a]palettegen=max_colors=256:stats_mode=full[p];[b][p]paletteuse=dither=none', '-frames:v', '1', `${file}.tmp.png`]);
  await rename(`${file}.tmp.png`, file);
  await rm(raw);
  const kb = Math.round(statSync(file).size / 1024);
  say(`  wrote ${path.relative(repoRoot, file)} (${viewport.width}×${height}, ${kb} KB)`);
}

/** Publishes until the stream is live, starting FFmpeg again if nginx-rtmp refused it (as OBS does). */
async function publishUntilLive(page: Page, ingestUrl: string, key: string, encoders: ChildProcess[]): Promise<void> {
  const shownLive = page.getByTestId('dashboard-status').getByText('live', { exact: true }).waitFor({ timeout: 180_000 }).then(() => 'live' as const);
  for (;;) {
    const encoder = publishTestPattern(ingestUrl, key);
    encoders.push(encoder);
    let stderr = '';
    encoder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const refused = once(encoder, 'exit').then(() => 'refused' as const);
    if ((await Promise.race([shownLive, refused])) === 'live') return;
    say(`  the encoder stopped (${stderr.trim().split('\n').at(-1) ?? 'no message'}); publishing again`);
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  await stackIsUp();
  mkdirSync(outDir, { recursive: true });
  const creator = await login('creator');
  say('Video');
  const videoId = await demoVideo(creator.accessToken, creator.user.id);
  await endDemoStreams(creator.accessToken, creator.user.id);

  const browser = await launchChromium();
  const encoders: ChildProcess[] = [];
  let streamId: string | undefined;
  try {
    const viewer = await signedInPage(browser, 'viewer1');
    await viewer.goto(url(`/videos/${videoId}`));
    const player = viewer.getByTestId('player');
    await player.waitFor({ timeout: 60_000 });
    await player.evaluate((v: VideoElement) => {
      v.muted = true;
      return v.play();
    });
    await viewer.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): VideoElement | null } }).document.querySelector('[data-testid="player"]')!.currentTime > 4, undefined, { timeout: 60_000 });
    await player.evaluate((v: VideoElement & { pause(): void }) => v.pause());
    await screenshot(viewer, 'watch-video.png', viewer.locator('article.watch'));

    say('Live stream');
    const dashboard = await signedInPage(browser, 'creator');
    await dashboard.goto(url('/dashboard'));
    await dashboard.getByLabel('Title').fill(STREAM_TITLE);
    await dashboard.getByRole('button', { name: 'Create stream' }).click();
    const ingestUrl = await dashboard.getByRole('textbox', { name: 'Ingest URL', exact: true }).inputValue();
    const streamKey = await dashboard.getByRole('textbox', { name: 'Stream key', exact: true }).inputValue();
    const watchUrl = (await dashboard.getByRole('link', { name: /\/streams\// }).getAttribute('href')) ?? '';
    streamId = /\/streams\/([0-9a-f-]{36})$/.exec(watchUrl)?.[1];
    if (!streamId) throw new Error(`the dashboard showed no watch link for the new stream (got "${watchUrl}")`);
    say(`  publishing a test pattern to ${ingestUrl}/<key>…`);
    await publishUntilLive(dashboard, ingestUrl, streamKey, encoders);

    const other = await signedInPage(browser, 'viewer2');
    for (const page of [viewer, other]) {
      await page.goto(watchUrl);
      await page.getByTestId('stream-status').getByText('LIVE').waitFor({ timeout: 60_000 });
      await waitForPlayback(page, 2);
    }
    await sendChat(other, 'Hi everyone! The colours are great today');
    await chatMessage(viewer, 'Hi everyone!').waitFor();
    await sendChat(viewer, 'Hello from viewer one!');
    await chatMessage(other, 'Hello from viewer one').waitFor();
    await chatMessage(viewer, 'Hello from viewer one').waitFor();
    await viewer.getByTestId('viewer-count').getByText('2 watching').waitFor({ timeout: 30_000 });
    await screenshot(viewer, 'watch-live.png');

    say('Dashboard');
    // A reload: the stream key is shown once, right after creating, and stays out of the picture.
    await dashboard.reload();
    await dashboard.getByTestId('dashboard-status').getByText('live', { exact: true }).waitFor();
    await dashboard.getByRole('heading', { name: 'Your videos' }).waitFor();
    await dashboard.getByRole('link', { name: VIDEO_TITLE }).first().waitFor();
    await screenshot(dashboard, 'dashboard.png', dashboard.locator('h2:text-is("Your videos") ~ table').first());
  } finally {
    await browser.close();
    for (const encoder of encoders) if (encoder.exitCode === null && encoder.signalCode === null) encoder.kill('SIGKILL');
    if (streamId) await callApi(api, 'POST', `/streams/${streamId}/end`, undefined, creator.accessToken).catch((err: Error) => say(`could not end the demo stream: ${err.message}`));
  }
}

try {
  await main();
  say('Screenshots are in docs/screenshots/.');
} catch (err) {
  process.stderr.write(`\nscreenshots failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
