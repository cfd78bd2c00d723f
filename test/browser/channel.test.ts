import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { insertStream } from '../support/gateway.ts';
import { h264, mediaDir, testPattern } from '../support/media.ts';
import { insertVideo } from '../support/videos.ts';
import { waitUntil } from '../support/wait.ts';
import { useBrowserApp } from './support/harness.ts';
import { expectAccessible, expectFitsPhone, registerByApi, signInThroughPage, signOutThroughPage } from './support/pages.ts';

// The channel page and a video's edit, in Chromium against the real API and workers: the owner
// edits a video (details, category, tags, the thumbnail's second: FFmpeg makes it), the change
// shows on the video and channel pages; others see neither the private video nor more.

const app = useBrowserApp({ workers: true });
const media = mediaDir('browser-channel');
afterAll(() => media.remove());

async function apiCall(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(app.url(path), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: any };
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json.data;
}

/** Upload → complete → ready, through the API, as `token`'s user; returns the video id. */
async function readyVideo(token: string, title: string, file: string): Promise<string> {
  const created = await apiCall('POST', '/api/v1/videos', token, { title });
  const put = await fetch(created.uploadUrl, { method: 'PUT', body: await readFile(file) });
  if (!put.ok) throw new Error(`upload failed: ${put.status}`);
  await apiCall('POST', `/api/v1/videos/${created.video.id}/complete`, token);
  await waitUntil(async () => (await apiCall('GET', `/api/v1/videos/${created.video.id}`, token)).status === 'ready' || undefined, 'the transcode', 180_000, 500);
  return created.video.id as string;
}

describe('channel page and video edit', () => {
  it('the owner edits a video from its page; the channel shows videos, past broadcasts and the live banner, private ones only to the owner', { timeout: 360_000 }, async () => {
    const owner = await registerByApi(app);
    const { accessToken } = await apiCall('POST', '/api/v1/auth/login', undefined, { login: owner.username, password: owner.password });
    const clip = await media.generate('clip.mp4', [...testPattern('640x360', 25, 4), ...h264]);
    const id = await readyVideo(accessToken, 'Original title', clip);
    const db = app.ctx.db;
    const category = await db.insertInto('categories').values({ name: 'Puzzles', slug: `puzzles-${Date.now()}` }).returning('id').executeTakeFirstOrThrow();
    await insertVideo(db, owner.id, { title: 'Secret draft', visibility: 'private' });
    await insertVideo(db, owner.id, { title: 'Last night live', source: 'recording', viewCount: 50 });
    await insertVideo(db, owner.id, { title: 'Popular clip', viewCount: 900, createdAt: new Date(Date.now() - 86_400_000) });
    const stream = await insertStream(app.ctx, owner.id, 'live');
    await db.updateTable('streams').set({ title: 'Building a puzzle', started_at: new Date() }).where('id', '=', stream).execute();

    const page = await app.newPage();
    await signInThroughPage(app, page, owner);
    await page.goto(app.url(`/videos/${id}`));
    await page.getByTestId('player').waitFor();
    const posterBefore = await page.getByTestId('player').getAttribute('poster');
    await page.getByRole('button', { name: 'Edit video' }).click();
    const form = page.getByRole('form', { name: 'Edit video' });
    await form.getByLabel('Title').fill('Edited title');
    await form.getByLabel('Description').fill('Now with a description');
    await form.getByLabel('Category').selectOption({ label: 'Puzzles' });
    await form.getByLabel(/^Tags/).fill('  Jigsaw, jigsaw ,Live SET');
    await form.getByLabel(/^Thumbnail from second/).fill('3');
    await expectAccessible(page);
    await expectFitsPhone(page);
    await form.getByRole('button', { name: 'Save' }).click();
    // FFmpeg takes the new thumbnail on the media worker; the form shows it once the video points at it.
    await form.getByRole('img', { name: 'The new thumbnail' }).waitFor({ timeout: 120_000 });
    await page.getByRole('heading', { name: 'Edited title', level: 1 }).waitFor();
    expect(await page.getByRole('list', { name: 'Category and tags' }).getByRole('listitem').allTextContents()).toEqual(['Puzzles', '#jigsaw', '#live set']);
    await form.getByRole('button', { name: 'Close' }).click();
    await page.getByText('Now with a description').waitFor();
    await expect.poll(() => page.getByTestId('player').getAttribute('poster'), { timeout: 30_000 }).not.toBe(posterBefore);
    expect(await page.getByTestId('player').getAttribute('poster')).toContain('poster-3000ms.jpg');
    // What the API stores is the normalized form.
    expect(await apiCall('GET', `/api/v1/videos/${id}`, undefined)).toMatchObject({ title: 'Edited title', tags: ['jigsaw', 'live set'], category: { id: category.id }, thumbnailAtSeconds: 3 });

    // The owner's channel: everything of theirs, the recording apart, and the live banner.
    await page.goto(app.url(`/@${owner.username}`));
    const uploads = page.getByRole('region', { name: 'Your videos', exact: true });
    await uploads.getByText('Edited title').waitFor();
    await uploads.getByText('Secret draft').waitFor();
    expect(await page.getByRole('region', { name: 'Past broadcasts' }).getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('Last night live')]);
    await page.getByRole('link', { name: 'Building a puzzle' }).waitFor();
    await signOutThroughPage(page, owner.username);

    // Anybody else: the public videos, newest or most viewed; never the private one.
    await page.goto(app.url(`/@${owner.username}`));
    const videos = page.getByRole('region', { name: 'Videos', exact: true });
    const titles = () => videos.locator('.card-title').allTextContents();
    await videos.getByText('Popular clip').waitFor();
    expect(await titles()).toEqual(['Edited title', 'Popular clip']);
    await page.getByRole('button', { name: 'Most viewed' }).click();
    await expect.poll(titles, { timeout: 30_000 }).toEqual(['Popular clip', 'Edited title']);
    expect(await page.getByText('Secret draft').count()).toBe(0);
    await page.getByRole('region', { name: 'Past broadcasts' }).getByText('Last night live').waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByRole('link', { name: 'Building a puzzle' }).click();
    await page.waitForURL(app.url(`/streams/${stream}`));
  });
});
