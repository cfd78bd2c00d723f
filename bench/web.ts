import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '../scripts/stack/paths.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { DEMO_PASSWORD } from '../scripts/stack/seed.ts';
import { launchChromium } from '../test/browser/support/harness.ts';
import { callApi } from './lib/api.ts';

// What a first-time viewer of a watch page pays, on the running `npm start` stack: the
// gzipped JavaScript the page downloads (target ≤ 250 KB with hls.js) and the time from
// navigation to the first decoded frame, p50 over N cold loads, of a VOD and of a live stream
// (FFmpeg publishing a test pattern to the RTMP ingest), each next to a bare page that only
// runs hls.js on the same playlist, measured in the same run.
// Usage: npm run bench -- web [loads=10]

const run = promisify(execFile);

// Every watch page starts playing muted as soon as it can (a person would press play; the
// bench must not wait for one), and notes when the first frame is presented.
const FIRST_FRAME_PROBE = `
  new MutationObserver((_, observer) => {
    const video = document.querySelector('video');
    if (!video) return;
    observer.disconnect();
    video.muted = true;
    video.autoplay = true;
    video.requestVideoFrameCallback(() => { window.__firstFrame = performance.now(); });
  }).observe(document, { subtree: true, childList: true });
`;

const barePage = (playlist: string) => `<!doctype html><html lang="en"><title>bare</title>
<video controls></video><script src="/hls.js"></script>
<script>const hls = new Hls(); hls.loadSource(${JSON.stringify(playlist)}); hls.attachMedia(document.querySelector('video'));</script></html>`;

interface Load {
  ms: number;
  jsBytes: number;
}

async function load(browser: Browser, url: string): Promise<Load> {
  // A new context: empty cache, like a first-time viewer.
  const context = await browser.newContext();
  await context.addInitScript(FIRST_FRAME_PROBE);
  const page: Page = await context.newPage();
  const scripts: Promise<number>[] = [];
  page.on('requestfinished', (request) => {
    if (request.resourceType() === 'script') scripts.push(request.sizes().then((s) => s.responseBodySize));
  });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { __firstFrame?: number }).__firstFrame !== undefined, undefined, { timeout: 60_000 });
  const ms = await page.evaluate(() => (globalThis as unknown as { __firstFrame: number }).__firstFrame);
  const jsBytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
  await context.close();
  return { ms, jsBytes };
}

const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function readyVideo(base: string, token: string): Promise<{ id: string; playbackUrl: string }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-web-'));
  try {
    const source = path.join(work, 'source.mp4');
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=20',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=20', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', source]);
    const { video, uploadUrl } = await callApi(base, 'POST', '/videos', { title: 'bench web' }, token);
    const put = await fetch(uploadUrl, { method: 'PUT', body: await readFile(source) });
    if (!put.ok) throw new Error(`upload failed: ${put.status}`);
    await callApi(base, 'POST', `/videos/${video.id}/complete`, undefined, token);
    for (;;) {
      const current = await callApi(base, 'GET', `/videos/${video.id}`, undefined, token);
      if (current.status === 'ready') return current;
      if (current.status === 'failed') throw new Error(`transcode failed: ${current.failureReason}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A stream on air: created as the creator, FFmpeg publishing a 720p test pattern in real time until `stop()`. */
async function liveStream(base: string, rtmpUrl: string, token: string): Promise<{ id: string; playbackUrl: string; stop(): Promise<void> }> {
  const stream = await callApi(base, 'POST', '/streams', { title: 'bench web live' }, token);
  const encoder = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', `${rtmpUrl}/${stream.streamKey}`], { stdio: 'ignore' });
  const stop = async () => {
    await callApi(base, 'POST', `/streams/${stream.id}/end`, undefined, token).catch(() => {});
    if (encoder.exitCode === null) encoder.kill('SIGTERM');
  };
  try {
    for (const deadline = Date.now() + 60_000; ; ) {
      if (Date.now() > deadline) throw new Error(`stream ${stream.id} did not go live with segments within 60 s`);
      const current = await callApi(base, 'GET', `/streams/${stream.id}`, undefined, token);
      // A few segments, as a viewer arriving at a stream already on air finds it.
      if (current.playbackUrl) {
        const playlist = await fetch(current.playbackUrl).then((r) => (r.ok ? r.text() : ''));
        if ((playlist.match(/\.ts/g) ?? []).length >= 3) return { id: stream.id, playbackUrl: current.playbackUrl, stop };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The baseline: hls.js alone (the same light build the app loads), gzipped like the API serves it, on `/?src=<playlist>`. */
async function startBarePage(): Promise<{ url(playlist: string): string; close(): void }> {
  const hlsJs = gzipSync(readFileSync(path.join(repoRoot, 'node_modules/hls.js/dist/hls.light.min.js')));
  const bare = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bare');
    if (url.pathname === '/hls.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'content-encoding': 'gzip' });
      res.end(hlsJs);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(barePage(url.searchParams.get('src') ?? ''));
    }
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  return { url: (playlist) => `${origin}/?src=${encodeURIComponent(playlist)}`, close: () => bare.close() };
}

/** `loads` cold loads of each page, interleaved so both see the same machine load. */
async function compare(browser: Browser, loads: number, appUrl: string, bareUrl: string): Promise<{ app: Load[]; bare: Load[] }> {
  const app: Load[] = [];
  const bare: Load[] = [];
  for (let i = 0; i < loads; i++) {
    app.push(await load(browser, appUrl));
    bare.push(await load(browser, bareUrl));
  }
  return { app, bare };
}

export async function benchWeb(args: string[]): Promise<void> {
  const loads = Number(args[0] ?? 10);
  const { config } = stackEnvironment();
  const base = config.publicUrls.api;
  const { accessToken } = await callApi(base, 'POST', '/auth/login', { login: 'creator', password: DEMO_PASSWORD });
  process.stdout.write('Uploading and transcoding a 20 s 720p clip… ');
  const video = await readyVideo(base, accessToken);
  process.stdout.write(`ready (${video.id})\n`);

  const bare = await startBarePage();
  const browser = await launchChromium();
  const version = browser.version();
  let vod: { app: Load[]; bare: Load[] };
  let live: { app: Load[]; bare: Load[] };
  try {
    vod = await compare(browser, loads, `${config.publicUrls.web}/videos/${video.id}`, bare.url(video.playbackUrl));
    process.stdout.write('Publishing a 720p test pattern to the RTMP ingest… ');
    const stream = await liveStream(base, config.publicUrls.rtmp, accessToken);
    process.stdout.write(`live (${stream.id})\n`);
    try {
      live = await compare(browser, loads, `${config.publicUrls.web}/streams/${stream.id}`, bare.url(stream.playbackUrl));
    } finally {
      await stream.stop();
    }
  } finally {
    await browser.close();
    bare.close();
  }
  process.stdout.write(`\nWatch pages, first-time viewer, ${loads} cold loads each (Chromium ${version}):\n`);
  process.stdout.write(`  ${'page'.padEnd(28)} ${'JS (gzipped)'.padStart(14)} ${'first frame p50'.padStart(16)}  all (ms)\n`);
  const rows: [string, Load[]][] = [
    ['web app /videos/:id', vod.app],
    ['bare hls.js page, same VOD', vod.bare],
    ['web app /streams/:id', live.app],
    ['bare hls.js page, same live', live.bare],
  ];
  for (const [name, loaded] of rows) {
    process.stdout.write(`  ${name.padEnd(28)} ${kb(p50(loaded.map((r) => r.jsBytes))).padStart(14)} ${`${Math.round(p50(loaded.map((r) => r.ms)))} ms`.padStart(16)}  ${loaded.map((r) => Math.round(r.ms)).join(' ')}\n`);
  }
  const js = Math.max(p50(vod.app.map((r) => r.jsBytes)), p50(live.app.map((r) => r.jsBytes)));
  process.stdout.write(`\nTarget ≤ 250 KB of JavaScript on either watch page: ${js <= 250 * 1024 ? 'met' : 'NOT met'} (${kb(js)}).\n`);
}
