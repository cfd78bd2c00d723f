import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recomputeBroadcasts, recomputeBucket } from '../../activities/analytics.ts';
import { insertStream } from '../support/gateway.ts';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { expectAccessible, expectFitsPhone, registerByApi, signInThroughPage } from './support/pages.ts';

// Creator analytics in Chromium against the real API: viewers' heartbeats, a like and a follow
// go through the API; the page shows nothing until the rollup recomputes the buckets (as the
// `analytics-rollup` Schedule does), then the numbers, per day and per hour, and the broadcasts.

const app = useBrowserApp();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function post(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const res = await fetch(app.url(path), {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res;
}

async function tokenOf(person: { username: string; password: string }): Promise<string> {
  const res = await post('/api/v1/auth/login', { body: { login: person.username, password: person.password } });
  return ((await res.json()) as { data: { accessToken: string } }).data.accessToken;
}

/** What the Schedule's run does for the current hour and day (and the previous hour), by hand. */
async function rollUp() {
  const currency = app.ctx.config.money.settlementCurrency;
  const now = Date.now();
  const hour = Math.floor(now / HOUR) * HOUR;
  for (const start of [hour - HOUR, hour]) await recomputeBucket(app.ctx.db, { granularity: 'hour', start: new Date(start), currency, computedAt: new Date() });
  await recomputeBucket(app.ctx.db, { granularity: 'day', start: new Date(Math.floor(now / DAY) * DAY), currency, computedAt: new Date() });
  await recomputeBroadcasts(app.ctx.db, app.ctx.mongo, { since: new Date(hour - HOUR), now: new Date() });
}

describe('creator analytics page', () => {
  it('shows a creator’s views, likes, followers and broadcasts once the rollup has run, per day and per hour', async () => {
    const creator = await registerByApi(app, 'creator');
    const fan = await registerByApi(app);
    const video = await insertVideo(app.ctx.db, creator.id, { title: 'Analytics clip', durationSeconds: 600 });
    const stream = await insertStream(app.ctx, creator.id, 'ended');
    await app.ctx.db.updateTable('streams').set({ title: 'Morning show', started_at: new Date(Date.now() - 60_000), ended_at: new Date(), peak_viewers: 3, unique_viewers: 4 }).where('id', '=', stream).execute();

    // Two anonymous viewers and the fan watch; the fan likes the video and follows the channel.
    const fanToken = await tokenOf(fan);
    for (const deviceId of [`dev-${randomBytes(6).toString('hex')}`, `dev-${randomBytes(6).toString('hex')}`]) {
      await post(`/api/v1/videos/${video}/views`, { body: { positionSeconds: 0, deviceId } });
    }
    await post(`/api/v1/videos/${video}/views`, { body: { positionSeconds: 0 }, token: fanToken });
    await post(`/api/v1/videos/${video}/like`, { method: 'PUT', token: fanToken });
    await post(`/api/v1/users/${creator.id}/follow`, { body: {}, token: fanToken });

    const page = await app.newPage();
    await signInThroughPage(app, page, creator);
    await page.goto(app.url('/dashboard'));
    await page.getByRole('link', { name: 'Analytics', exact: true }).click();
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    // Nothing rolled up yet: zeros, and the page says so.
    await page.getByTestId('analytics-freshness').getByText('Not computed yet.').waitFor();
    expect(await page.getByTestId('total-views').locator('dd').textContent()).toBe('0');

    await rollUp();
    await page.reload();
    await page.getByTestId('analytics-freshness').getByText(/Last computed/).waitFor();
    expect(await page.getByTestId('total-views').locator('dd').textContent()).toBe('3');
    expect(await page.getByTestId('total-likes').locator('dd').textContent()).toBe('1');
    expect(await page.getByTestId('total-new-followers').locator('dd').textContent()).toBe('1');
    // Thirty days, today last, with today's numbers in its row.
    const rows = page.getByTestId('analytics-series').locator('tbody tr');
    expect(await rows.count()).toBe(30);
    const today = new Date(Math.floor(Date.now() / DAY) * DAY).toISOString().slice(0, 10);
    expect(await rows.last().locator('th').textContent()).toBe(today);
    expect(await rows.last().locator('td').first().textContent()).toBe('3');
    // Three viewers: the unique viewers column.
    expect(await rows.last().locator('td').nth(1).textContent()).toBe('3');
    const broadcast = page.getByTestId('analytics-broadcasts').getByRole('row', { name: /Morning show/ });
    expect(await broadcast.locator('td').nth(2).textContent()).toBe('3'); // peak
    expect(await broadcast.locator('td').nth(4).textContent()).toBe('4'); // unique
    await page.getByLabel('Chart').selectOption('likes');
    expect(await page.getByRole('img', { name: /^Likes per day, 30 days, highest 1$/ }).count()).toBe(1);
    await expectAccessible(page);
    await expectFitsPhone(page);

    // Per hour, today only: 24 rows, this hour's holding the views.
    await page.getByLabel('Granularity').selectOption('hour');
    await page.getByLabel('From (UTC)').fill(today);
    await page.getByLabel('To (UTC, included)').fill(today);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('columnheader', { name: 'Hour (UTC)' }).waitFor();
    expect(await rows.count()).toBe(24);
    const hourRow = rows.nth(new Date().getUTCHours());
    // The view may have been counted in the previous hour if the clock just turned; both hours' views add up to 3.
    const viewsOf = async (i: number) => Number(await rows.nth(i).locator('td').first().textContent());
    const hour = new Date().getUTCHours();
    expect((await viewsOf(hour)) + (hour > 0 ? await viewsOf(hour - 1) : 0)).toBe(3);
    expect(await hourRow.locator('th time').getAttribute('datetime')).toMatch(/T\d{2}:00:00\.000Z$/);
    await expectAccessible(page);
    await expectFitsPhone(page);

    // A viewer has no analytics.
    const viewerPage = await app.newPage();
    await signInThroughPage(app, viewerPage, fan);
    await viewerPage.goto(app.url('/dashboard/analytics'));
    await viewerPage.getByText('Analytics are for creators: going live or uploading a video makes you one.').waitFor();
  }, 120_000);
});
