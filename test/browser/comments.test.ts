import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerByApi, signInThroughPage, signOutThroughPage } from './support/pages.ts';

// Comments on the watch page, end to end in Chromium against the real API: post, reply two
// levels deep (and past them), edit, like, sort, then the owner pins, deletes and reports.

const app = useBrowserApp();

const comment = (page: Page, author: string, body: string) => page.getByRole('article', { name: author }).filter({ hasText: body });

/**
 * Holds back the answer to the next top-level list read of the video's comments (the request
 * reaches the API at once); the returned function lets it through and resolves once it has.
 */
async function holdFirstListAnswer(page: Page, videoId: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let delivered!: () => void;
  const answered = new Promise<void>((resolve) => (delivered = resolve));
  // The list read carries its sort; the post goes to the same path without one.
  const isListRead = (url: URL) => url.pathname === `/api/v1/videos/${videoId}/comments` && url.searchParams.has('sort');
  await page.route(
    isListRead,
    async (route) => {
      const response = await route.fetch();
      await released;
      await route.fulfill({ response });
      delivered();
    },
    { times: 1 },
  );
  return async () => {
    release();
    await answered;
  };
}

describe('comments on the watch page', () => {
  it('posts, replies two levels deep, edits, likes and sorts; the owner pins, deletes and reports', async () => {
    const owner = await registerByApi(app);
    const fan = await registerByApi(app);
    const video = await insertVideo(app.ctx.db, owner.id, { title: 'Talk about it' });
    const page = await app.newPage();

    await signInThroughPage(app, page, fan);
    await page.goto(app.url(`/videos/${video}`));
    await page.getByRole('heading', { name: '0 comments' }).waitFor();
    await page.getByLabel('Add a comment').fill('  What a video!  ');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    const top = comment(page, fan.username, 'What a video!').first();
    await top.waitFor();
    await page.getByRole('heading', { name: '1 comment' }).waitFor();
    expect(await page.getByLabel('Add a comment').inputValue()).toBe('');

    // A reply, a reply to it (depth 2), and an answer to that, which joins the same level.
    await top.getByRole('button', { name: 'Reply', exact: true }).first().click();
    await page.getByLabel(`Reply to ${fan.username}`).fill('Replying to myself');
    await page.getByRole('button', { name: 'Post reply' }).click();
    await top.getByRole('button', { name: '1 reply' }).click();
    const depth1 = comment(page, fan.username, 'Replying to myself').last();
    await depth1.waitFor();
    await depth1.getByRole('button', { name: 'Reply', exact: true }).first().click();
    await page.getByLabel(`Reply to ${fan.username}`).fill('Depth two');
    await page.getByRole('button', { name: 'Post reply' }).click();
    await depth1.getByRole('button', { name: '1 reply' }).click();
    const depth2 = comment(page, fan.username, 'Depth two').last();
    await depth2.waitFor();
    await depth2.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByLabel(`Reply to ${fan.username}`).fill('Still depth two');
    await page.getByRole('button', { name: 'Post reply' }).click();
    await depth1.getByRole('button', { name: 'Hide replies' }).waitFor();
    await comment(page, fan.username, 'Still depth two').last().waitFor();
    await page.getByRole('heading', { name: '4 comments' }).waitFor();

    // Edit the top-level comment: marked edited. Like it: pressed, counted.
    await top.getByRole('button', { name: 'Edit' }).first().click();
    await page.getByLabel('Edit your comment').fill('What a video, really!');
    await page.getByRole('button', { name: 'Save' }).click();
    const edited = comment(page, fan.username, 'What a video, really!').first();
    await edited.getByText('(edited)').first().waitFor();
    await edited.getByRole('button', { name: 'Like (0)' }).first().click();
    await edited.getByRole('button', { name: 'Like (1)', pressed: true }).first().waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    // Signed out, the comments offer "Sign in to…" links of their own: sign out elsewhere.
    await page.goto(app.url('/'));
    await signOutThroughPage(page, fan.username);

    // The owner: a newer comment of their own; newest puts it first, top puts the liked one first.
    // Their comment goes out while the list's first load is still on its way: the list, read
    // before the comment was stored, must not hide it once it arrives.
    await signInThroughPage(app, page, owner);
    const listAnswered = await holdFirstListAnswer(page, video);
    await page.goto(app.url(`/videos/${video}`));
    await page.getByLabel('Add a comment').fill('Thanks for watching');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    await page.getByRole('heading', { name: '5 comments' }).waitFor();
    await listAnswered();
    await comment(page, owner.username, 'Thanks for watching').waitFor();
    const order = () => page.locator('section.comments > article > .comment-body').allTextContents();
    await expect.poll(order).toEqual(['Thanks for watching', 'What a video, really!']);
    await page.getByLabel('Sort by').selectOption('top');
    await expect.poll(order).toEqual(['What a video, really!', 'Thanks for watching']);
    await page.getByLabel('Sort by').selectOption('newest');
    await expect.poll(order).toEqual(['Thanks for watching', 'What a video, really!']);

    // Pin the fan's comment: first, marked. Delete the depth-1 reply: its place stays for its replies.
    const fans = comment(page, fan.username, 'What a video, really!').first();
    await fans.getByRole('button', { name: 'Pin', exact: true }).first().click();
    await fans.getByText('Pinned by the creator').first().waitFor();
    await expect.poll(order).toEqual(['What a video, really!', 'Thanks for watching']);
    await fans.getByRole('button', { name: '3 replies' }).first().click();
    await comment(page, fan.username, 'Replying to myself').last().getByRole('button', { name: 'Delete' }).first().click();
    await page.getByText('This comment was removed.').waitFor();
    await page.getByRole('heading', { name: '4 comments' }).waitFor();

    // Report the fan's comment through the moderation dialog.
    await fans.getByRole('button', { name: `Report comment by ${fan.username}` }).first().click();
    const dialog = page.getByRole('dialog', { name: `Report comment by ${fan.username}` });
    await dialog.getByLabel('Reason').selectOption('spam');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Thank you. Your report was sent to the moderators.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expectAccessible(page);
    await expectFitsPhone(page);
    await accountMenu(page, owner.username).waitFor();
  }, 300_000);
});
