import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserApp } from './support/harness.ts';
import { chatLines, chatMessage, createStreamInDashboard, sendChat } from './support/live-pages.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerByApi, registerThroughPage, signInThroughPage } from './support/pages.ts';

// The admin pages (categories, the platform's watched words) and a creator's channel blocked
// terms, against the real API, gateway and workers (a stream is a Temporal workflow): what the
// lists hold is checked in Postgres, and a blocked or held term refuses a viewer's chat message
// in the watch page with its rule; the creator ends the stream from the dashboard.

const app = useBrowserApp({ workers: true });

const watchedWords = () => app.ctx.db.selectFrom('watched_words').select(['term', 'level', 'reason', 'score']).orderBy('term').execute();

describe('admin and channel pages in the browser', { timeout: 300_000 }, () => {
  it('an admin lists, creates and edits categories and keeps the watched words; a plain user is refused', async () => {
    const admin = await registerByApi(app, 'admin');
    const page = await app.newPage();
    await signInThroughPage(app, page, admin);

    // Categories: create one, then edit it in its row.
    await accountMenu(page, admin.username).click();
    await page.getByRole('link', { name: 'Categories', exact: true }).click();
    await page.getByRole('heading', { name: 'Categories', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('Speedruns');
    await page.getByLabel('Tags (comma separated)').fill('fast, games');
    await page.getByRole('button', { name: 'Create category' }).click();
    await page.getByRole('cell', { name: 'Speedruns', exact: true }).waitFor();
    expect(await app.ctx.db.selectFrom('categories').select(['name', 'slug', 'tags']).where('name', '=', 'Speedruns').executeTakeFirst()).toEqual({ name: 'Speedruns', slug: 'speedruns', tags: ['fast', 'games'] });
    await expectAccessible(page);
    await expectFitsPhone(page);
    await page.getByRole('button', { name: 'Edit Speedruns' }).click();
    const editing = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'Save Speedruns' }) });
    await editing.getByLabel('Name').fill('Speedrunning');
    await editing.getByRole('button', { name: 'Save Speedruns' }).click();
    await page.getByRole('cell', { name: 'Speedrunning', exact: true }).waitFor();
    expect(await app.ctx.db.selectFrom('categories').select(['name', 'slug']).where('slug', '=', 'speedruns').executeTakeFirst()).toEqual({ name: 'Speedrunning', slug: 'speedruns' });

    // Watched words: a term is stored normalized; a term with no letter is refused with the API's reason.
    await accountMenu(page, admin.username).click();
    await page.getByRole('link', { name: 'Watched words', exact: true }).click();
    await page.getByRole('heading', { name: 'Watched words', level: 1 }).waitFor();
    await page.getByText('No watched words yet.').waitFor();
    const term = page.getByRole('textbox', { name: 'Term', exact: true });
    await term.fill('Zorbl@x');
    await page.getByLabel('Level').selectOption('block');
    await page.getByLabel('Policy reason of its cases').selectOption({ label: 'Spam' });
    await page.getByLabel('Score (1–100)').fill('70');
    await page.getByRole('button', { name: 'Save term' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “zorblax” (block).' }).waitFor();
    await page.getByRole('cell', { name: 'zorblax', exact: true }).waitFor();
    expect(await watchedWords()).toEqual([{ term: 'zorblax', level: 'block', reason: 'spam', score: 70 }]);

    await term.fill('!!!');
    await page.getByRole('button', { name: 'Save term' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refused: term: must contain a letter or digit' }).waitFor();
    expect(await watchedWords()).toHaveLength(1);

    // Saving a listed term again changes it; another is added and removed.
    await term.fill('zorblax');
    await page.getByLabel('Level').selectOption('hold');
    await page.getByRole('button', { name: 'Save term' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved “zorblax” (hold).' }).waitFor();
    await term.fill('quibblor');
    await page.getByRole('button', { name: 'Save term' }).click();
    await page.getByRole('cell', { name: 'quibblor', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Remove quibblor' }).click();
    await page.getByRole('cell', { name: 'quibblor', exact: true }).waitFor({ state: 'detached' });
    expect(await watchedWords()).toEqual([{ term: 'zorblax', level: 'hold', reason: 'other', score: 50 }]);
    expect(await page.getByRole('row').filter({ hasText: 'zorblax' }).getByRole('cell').allTextContents()).toEqual(['zorblax', 'Hold', 'Something else', '50', 'Remove']);
    await expectAccessible(page);
    await expectFitsPhone(page);

    // A plain user gets neither link and a refusal on both pages.
    const userPage = await app.newPage();
    const user = await registerThroughPage(app, userPage);
    await accountMenu(userPage, user.username).click();
    expect(await userPage.getByRole('link', { name: /^(Categories|Watched words)$/ }).count()).toBe(0);
    await userPage.goto(app.url('/admin/categories'));
    await userPage.getByText('Only administrators manage categories.').waitFor();
    expect(await userPage.getByRole('button', { name: 'Create category' }).count()).toBe(0);
    await userPage.goto(app.url('/admin/watched-words'));
    await userPage.getByText('Only administrators and moderators see the watched words.').waitFor();
    expect(await userPage.getByRole('cell', { name: 'zorblax' }).count()).toBe(0);
  });

  it('a creator’s blocked term and a held watched word refuse a viewer’s chat message with their rule; the creator ends the stream from the dashboard', async () => {
    const creator = await registerByApi(app);
    const viewer = await registerByApi(app);
    // The platform's list, as an admin keeps it (the page is proved above).
    await app.ctx.db.insertInto('watched_words').values({ term: 'heldword', level: 'hold', reason: 'harassment', score: 60, created_by: null }).execute();

    // The creator's blocked terms, linked from the dashboard; a line with no letter is refused.
    const creatorPage = await app.newPage();
    await signInThroughPage(app, creatorPage, creator);
    await creatorPage.goto(app.url('/dashboard'));
    await creatorPage.getByRole('link', { name: 'Blocked terms' }).click();
    await creatorPage.getByRole('heading', { name: 'Blocked terms', level: 1 }).waitFor();
    const terms = creatorPage.getByLabel('Blocked terms (one per line)');
    await terms.fill('Sp@mword\n???');
    await creatorPage.getByRole('button', { name: 'Save blocked terms' }).click();
    await creatorPage.getByRole('alert').filter({ hasText: 'Refused: “???”: must contain a letter or digit' }).waitFor();
    const stored = () => app.ctx.db.selectFrom('channel_blocked_terms').select('term').where('owner_id', '=', creator.id).orderBy('term').execute();
    expect(await stored()).toEqual([]);
    await terms.fill('Sp@mword\nBadword');
    await creatorPage.getByRole('button', { name: 'Save blocked terms' }).click();
    await creatorPage.getByRole('status').filter({ hasText: 'Saved: 2 terms.' }).waitFor();
    expect(await terms.inputValue()).toBe('badword\nspamword');
    expect(await stored()).toEqual([{ term: 'badword' }, { term: 'spamword' }]);
    await expectAccessible(creatorPage);
    await expectFitsPhone(creatorPage);

    const title = 'Blocked terms stream';
    const shown = await createStreamInDashboard(app, creatorPage, title);
    await creatorPage.getByRole('button', { name: 'I have saved it' }).click();
    const streamId = shown.watchUrl.split('/streams/')[1]!;

    // The viewer's messages: a blocked term refused, a held word held (with a case), a plain one sent.
    const viewerPage = await app.newPage();
    await signInThroughPage(app, viewerPage, viewer);
    await viewerPage.goto(shown.watchUrl);
    await viewerPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    const refused = viewerPage.getByRole('alert').filter({ hasText: 'Not sent' });
    await sendChat(viewerPage, 'such SPAMW0RD here');
    await refused.waitFor();
    expect(await refused.textContent()).toBe('Not sent. It contains a term this channel or the platform does not allow.');
    await viewerPage.getByRole('button', { name: 'Dismiss' }).click();
    await sendChat(viewerPage, 'a heldword for you');
    await refused.waitFor();
    expect(await refused.textContent()).toBe('Not sent. Held for review: it contains a term the moderators look at first. Nobody else saw it.');
    const held = await app.ctx.db.selectFrom('moderation_cases').select(['target_id', 'snapshot']).where('target_type', '=', 'chat_message').where('target_id', 'like', `${streamId}.h%`).execute();
    expect(held).toHaveLength(1);
    expect(held[0]!.snapshot).toMatchObject({ text: 'a heldword for you', term: 'heldword', userId: viewer.id });
    await viewerPage.getByRole('button', { name: 'Dismiss' }).click();
    await sendChat(viewerPage, 'just saying hi');
    await chatMessage(viewerPage, 'just saying hi').waitFor();
    expect(await chatLines(viewerPage)).toEqual([`${viewer.username}: just saying hi`]);

    // The creator ends the stream that never went live: the workflow cancels it; the viewer's chat closes.
    const row = creatorPage.getByRole('listitem', { name: title });
    await row.getByTestId('dashboard-status').getByText('idle').waitFor();
    creatorPage.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'End stream' }).click();
    await row.getByTestId('dashboard-status').getByText('cancelled').waitFor({ timeout: 60_000 });
    expect(await row.getByRole('button', { name: 'End stream' }).count()).toBe(0);
    expect((await app.ctx.db.selectFrom('streams').select('status').where('id', '=', streamId).executeTakeFirstOrThrow()).status).toBe('cancelled');
    await viewerPage.getByText('The chat is closed.').waitFor();
  });
});
