import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { insertStream } from '../support/gateway.ts';
import { expectAccessible, expectFitsPhone, registerByApi, registerThroughPage, signInThroughPage } from './support/pages.ts';

// Moderation in the browser against the real API, workers (each case is a Temporal workflow)
// and Postgres: a viewer reports a video from its watch page, a moderator finds the case in
// the queue, claims it and bans the owner; the banned owner signs in to an appeal-only session,
// sees the restriction page, appeals and writes in the thread, which another moderator reads.

const app = useBrowserApp({ workers: true });

describe('moderation in the browser', { timeout: 300_000 }, () => {
  it('a report becomes a case a moderator decides; the banned owner appeals from the restriction page and a second moderator reads the thread', async () => {
    const owner = await registerByApi(app);
    const [deciding, reviewing] = [await registerByApi(app, 'moderator'), await registerByApi(app, 'moderator')];
    const videoId = await insertVideo(app.ctx.db, owner.id, { title: 'Clip to report' });

    // The viewer reports the video from its watch page.
    const viewerPage = await app.newPage();
    const viewer = await registerThroughPage(app, viewerPage);
    await viewerPage.goto(app.url(`/videos/${videoId}`));
    await viewerPage.getByRole('heading', { name: 'Clip to report' }).waitFor();
    await viewerPage.getByRole('button', { name: 'Report', exact: true }).click();
    const dialog = viewerPage.getByRole('dialog', { name: 'Report video Clip to report' });
    await dialog.waitFor();
    await expectAccessible(viewerPage);
    await dialog.getByRole('combobox', { name: /^Reason\b/ }).selectOption({ label: 'Harassment or bullying' });
    await dialog.getByLabel('Details (optional)').fill('Insults at 0:03');
    await dialog.getByLabel('Where in the video (seconds, optional)').fill('3');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Thank you. Your report was sent to the moderators.').waitFor();
    const report = await app.ctx.db.selectFrom('reports').select(['case_id', 'reason', 'details', 'timestamp_seconds']).where('reporter_id', '=', await idOf(viewer.username)).executeTakeFirstOrThrow();
    expect(report).toMatchObject({ reason: 'harassment', details: 'Insults at 0:03', timestamp_seconds: 3 });
    const caseId = report.case_id;
    expect(caseId).toBe(`video-${videoId}-1`);
    // Reporting again is the same report, and the page says so.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await viewerPage.getByRole('button', { name: 'Report', exact: true }).click();
    await dialog.getByRole('combobox', { name: /^Reason\b/ }).selectOption('spam');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('You already reported this; your report stands.').waitFor();

    // The moderator: the queue (the nav link only staff see), filtered to videos, then the case.
    expect(await viewerPage.getByRole('link', { name: 'Moderation', exact: true }).count()).toBe(0);
    const modPage = await app.newPage();
    await signInThroughPage(app, modPage, deciding);
    await modPage.getByRole('link', { name: 'Moderation', exact: true }).click();
    await modPage.getByRole('heading', { name: 'Moderation queue', level: 1 }).waitFor();
    await modPage.getByRole('combobox', { name: /^Target\b/ }).selectOption('video');
    const caseLink = modPage.getByRole('link', { name: new RegExp(caseId) });
    await caseLink.waitFor();
    await expectAccessible(modPage);
    await expectFitsPhone(modPage);
    await caseLink.click();
    await modPage.getByRole('heading', { name: `Case ${caseId}`, level: 1 }).waitFor();
    // The evidence and the report as filed.
    await modPage.getByRole('cell', { name: 'Insults at 0:03' }).waitFor();
    await modPage.getByText('Clip to report').first().waitFor();
    await modPage.getByRole('button', { name: 'Claim' }).click();
    await modPage.getByRole('combobox', { name: /^Decision\b/ }).selectOption('ban');
    await expectAccessible(modPage);
    await expectFitsPhone(modPage);
    await modPage.getByRole('combobox', { name: /^Rule\b/ }).selectOption('harassment');
    await modPage.getByLabel('Note to the user (the statement of reasons)').fill('Repeated insults in the video');
    await modPage.getByRole('button', { name: 'Decide' }).click();
    await modPage.getByText('Decided: Ban the account.').waitFor();
    // The workflow carried it out: banned, and told (then it may be appealed).
    await expect.poll(() => app.ctx.db.selectFrom('users').select('status').where('id', '=', owner.id).executeTakeFirstOrThrow().then((r) => r.status), { timeout: 60_000 }).toBe('banned');
    await expect
      .poll(() => app.ctx.db.selectFrom('notifications').select('id').where('recipient_id', '=', owner.id).where('type', '=', 'moderation_decision').where('entity_id', '=', caseId).executeTakeFirst(), { timeout: 60_000 })
      .toBeTruthy();

    // The banned owner signs in: an appeal-only session, the restriction page, no refresh loop.
    const ownerPage = await app.newPage();
    let refreshes = 0;
    ownerPage.on('request', (r) => {
      if (r.url().endsWith('/api/v1/auth/refresh')) refreshes++;
    });
    await signInThroughPage(app, ownerPage, owner);
    await ownerPage.waitForURL(/\/appeal$/);
    await ownerPage.getByRole('heading', { name: 'Your account is restricted', level: 1 }).waitFor();
    await ownerPage.getByText('Your account is banned.').waitFor();
    await ownerPage.getByText('Repeated insults in the video').waitFor();
    // Other pages send it back here; a reload keeps the session.
    await ownerPage.goto(app.url('/upload'));
    await ownerPage.waitForURL(/\/appeal$/);
    await ownerPage.getByRole('heading', { name: 'Your account is restricted', level: 1 }).waitFor();
    await expectAccessible(ownerPage);
    await expectFitsPhone(ownerPage);
    await ownerPage.getByLabel('Your appeal: why should this decision be reversed?').fill('I was quoting a film');
    await ownerPage.getByRole('button', { name: 'Send appeal' }).click();
    await ownerPage.getByText('Your appeal is waiting for a moderator who did not make the decision.').waitFor();
    await ownerPage.getByLabel('Message', { exact: true }).fill('The film is in the description.');
    await ownerPage.getByRole('button', { name: 'Send message' }).click();
    await ownerPage.getByRole('list', { name: 'Appeal messages' }).getByText('The film is in the description.').waitFor();
    await expectAccessible(ownerPage);
    expect(await app.ctx.db.selectFrom('appeals').select('message').where('case_id', '=', caseId).executeTakeFirst()).toEqual({ message: 'I was quoting a film' });
    expect(await app.ctx.db.selectFrom('appeal_messages').select(['author_role', 'body']).where('case_id', '=', caseId).execute()).toEqual([{ author_role: 'appellant', body: 'The film is in the description.' }]);
    expect(refreshes).toBe(0);
    expect(await ownerPage.getByLabel(`Account menu for ${owner.username}`).count()).toBe(1);

    // A second moderator (not the one who decided) reads the appeal and its thread, and answers.
    const reviewPage = await app.newPage();
    await signInThroughPage(app, reviewPage, reviewing);
    await reviewPage.goto(app.url(`/moderation/cases/${caseId}`));
    await reviewPage.getByRole('heading', { name: 'Appeal', level: 2 }).waitFor();
    await reviewPage.getByText('I was quoting a film').waitFor();
    const thread = reviewPage.getByRole('list', { name: 'Appeal messages' });
    await thread.getByText('The film is in the description.').waitFor();
    await expectAccessible(reviewPage);
    await reviewPage.getByLabel('Message', { exact: true }).fill('Thanks, we are checking the film.');
    await reviewPage.getByRole('button', { name: 'Send message' }).click();
    await thread.getByText('Thanks, we are checking the film.').waitFor();
    // The appellant sees it (without the moderator's id).
    await ownerPage.reload();
    await ownerPage.getByRole('list', { name: 'Appeal messages' }).getByText('Thanks, we are checking the film.').waitFor();
  });

  it('a creator appoints a channel moderator, bans someone from the chat and lifts it from the dashboard (their open chat turns off and back on); the log lists each step; the channel is reported from its page', async () => {
    const [helper, troll] = [await registerByApi(app), await registerByApi(app)];
    const page = await app.newPage();
    const creator = await registerThroughPage(app, page);
    await page.goto(app.url('/dashboard'));
    const section = page.getByRole('region', { name: 'Channel moderation' });
    await section.getByText('No channel moderators.').waitFor();
    await section.getByLabel('Moderator’s username').fill(helper.username);
    await section.getByRole('button', { name: 'Add moderator' }).click();
    await section.getByRole('list', { name: 'Channel moderators' }).getByText(`@${helper.username}`).waitFor();

    // The troll watches the creator's live stream, chat open.
    const creatorId = await idOf(creator.username);
    const streamId = await insertStream(app.ctx, creatorId, 'live');
    const trollPage = await app.newPage();
    await signInThroughPage(app, trollPage, troll);
    await trollPage.goto(app.url(`/streams/${streamId}`));
    const chatInput = trollPage.getByRole('textbox', { name: 'Chat message', exact: true });
    await chatInput.waitFor();
    await trollPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });

    await section.getByLabel('Username to restrict').fill(troll.username);
    await section.getByRole('combobox', { name: /^Restriction\b/ }).selectOption('ban');
    await section.getByLabel('Reason shown to them (optional)').fill('spam links');
    await section.getByRole('button', { name: 'Ban', exact: true }).click();
    await section.getByRole('row', { name: new RegExp(`@${troll.username}.*Banned.*spam links`) }).waitFor();
    await expectAccessible(page);
    await expectFitsPhone(page);
    // Their chat says so at once and takes no input; the lift turns it back on, without a reload.
    await trollPage.getByRole('alert').filter({ hasText: "You are banned from this channel's chat: spam links" }).waitFor();
    await expect.poll(() => chatInput.isDisabled()).toBe(true);
    await section.getByRole('button', { name: `Lift ban of ${troll.username}` }).click();
    await section.getByText('Nobody is timed out or banned.').waitFor();
    await expect.poll(() => chatInput.isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await trollPage.getByRole('alert').filter({ hasText: 'banned' }).count()).toBe(0);
    await section.getByRole('button', { name: `Remove moderator ${helper.username}` }).click();
    await section.getByText('No channel moderators.').waitFor();

    const log = section.getByRole('list', { name: 'Moderation log' });
    await log.getByText(`@${creator.username} removed as moderator @${helper.username}`).waitFor();
    await log.getByText(`@${creator.username} banned @${troll.username}: spam links`).waitFor();
    const actions = await app.ctx.db.selectFrom('channel_moderation_log').select('action').where('owner_id', '=', creatorId).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['moderator_added', 'ban', 'lift', 'moderator_removed']);

    // Someone reports the channel from its page.
    const reporterPage = trollPage;
    await reporterPage.goto(app.url(`/@${creator.username}`));
    await reporterPage.getByRole('button', { name: 'Report', exact: true }).click();
    const dialog = reporterPage.getByRole('dialog', { name: `Report channel ${creator.username}` });
    await dialog.getByRole('combobox', { name: /^Reason\b/ }).selectOption('spam');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Thank you. Your report was sent to the moderators.').waitFor();
    expect(await app.ctx.db.selectFrom('reports').select(['case_id', 'reason']).where('reporter_id', '=', troll.id).execute()).toEqual([{ case_id: `user-${creatorId}-1`, reason: 'spam' }]);
  });
});

async function idOf(username: string): Promise<string> {
  return (await app.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;
}
