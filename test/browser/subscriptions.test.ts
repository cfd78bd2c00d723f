import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerPaymentEventHandlers } from '../../activities/payment-handlers.ts';
import { registerSubscriptionEventHandlers } from '../../activities/subscription-events.ts';
import { STRIPE_WEBHOOK_PATH } from '../../api/payments/webhooks.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { setRole } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { stripeObjects } from '../support/payments.ts';
import { stripeDelivery } from '../support/stripe.ts';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { chatMessage, sendChat } from './support/live-pages.ts';
import { accountMenu, expectAccessible, expectFitsPhone, registerThroughPage } from './support/pages.ts';

// Channel subscriptions in the browser: a viewer subscribes on a channel's page, which waits
// for Stripe (the page confirms no card: stripe-mock cannot run Stripe.js); the test plays
// Stripe by delivering the signed `invoice.paid` naming our subscription in its metadata, real
// workers apply it (the payment-event workflow signals `subscription/<id>`), and the page must
// show the subscription active on its own. The subscriber then chats with a badge in
// subscriber-only chat, cancels on /subscriptions and keeps access until the period's end;
// the creator sees them on /dashboard/subscribers, renames a tier and sees the share earned.

const app = useBrowserApp({ workers: true });
// The money and subscription handlers in the workers' registry, as the worker entrypoint puts them (workers/main.ts).
beforeAll(() => {
  const { config, logger } = app.ctx;
  registerPaymentEventHandlers({
    rules: moneyRules(config),
    disputeFee: BigInt(config.payments.disputeFeeMinor),
    subscriptionShareBps: config.subscriptions.creatorShareBps,
    gifts: { graceSeconds: config.subscriptions.graceSeconds },
    logger,
  });
  registerSubscriptionEventHandlers({ logger, graceSeconds: config.subscriptions.graceSeconds });
});

const usd = (minor: number | bigint) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(Number(minor) / 100);
/** A date as the pages show it (Chromium's locale is en-US). */
const day = (date: Date) => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' }).format(date);
const DAY_SECONDS = 24 * 3600;

const userIdOf = async (username: string) => (await app.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;

const subscriptionsOf = (subscriberId: string) =>
  app.ctx.db
    .selectFrom('subscriptions')
    .select(['id', 'tier', 'price', 'status', 'cancel_at_period_end', 'current_period_end', 'provider_subscription_id', 'provider_customer_id'])
    .where('subscriber_id', '=', subscriberId)
    .orderBy('created_at')
    .execute();

/** Stripe reports the first invoice of the subscriber's subscription that waits for it paid: signed, through the webhook, applied by its workflow. */
async function stripeReportsInvoicePaid(subscriberId: string) {
  const [s, ...others] = (await subscriptionsOf(subscriberId)).filter((row) => row.status === 'incomplete');
  expect(others).toEqual([]);
  const start = Math.floor(Date.now() / 1000);
  const end = start + 30 * DAY_SECONDS;
  const object = {
    id: `in_${randomBytes(12).toString('hex')}`,
    object: 'invoice',
    status: 'paid',
    billing_reason: 'subscription_create',
    amount_due: Number(s!.price),
    amount_paid: Number(s!.price),
    currency: 'usd',
    customer: s!.provider_customer_id,
    subscription: s!.provider_subscription_id,
    period_start: start,
    period_end: end,
    lines: { object: 'list', data: [{ object: 'line_item', amount: Number(s!.price), currency: 'usd', period: { start, end } }] },
    parent: { type: 'subscription_details', subscription_details: { subscription: s!.provider_subscription_id, metadata: { subscriptionId: s!.id } } },
    metadata: {},
  };
  const delivery = stripeDelivery(app.ctx.config, { type: 'invoice.paid', object });
  const res = await fetch(app.url(STRIPE_WEBHOOK_PATH), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': delivery.signature }, body: delivery.body });
  expect(res.status, await res.text()).toBe(200);
  const outcome = await app.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', delivery.event.id)).result();
  expect(outcome).toEqual({ outcome: 'applied', type: 'invoice.paid' });
}

/** Stripe reports the payer's only pending payment as paid (a gift of subscriptions is paid like a tip). */
async function stripeReportsPaid(payerId: string) {
  const pending = await app.ctx.db
    .selectFrom('payments')
    .select(['id', 'kind', 'amount', 'provider_payment_intent_id'])
    .where('payer_id', '=', payerId)
    .where('status', '=', 'requires_payment')
    .execute();
  expect(pending).toHaveLength(1);
  const p = pending[0]!;
  const object = stripeObjects.succeeded({ id: p.id, kind: p.kind as 'tip', amount: Number(p.amount), paymentIntentId: p.provider_payment_intent_id! });
  const delivery = stripeDelivery(app.ctx.config, { type: 'payment_intent.succeeded', object });
  const res = await fetch(app.url(STRIPE_WEBHOOK_PATH), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': delivery.signature }, body: delivery.body });
  expect(res.status, await res.text()).toBe(200);
  const outcome = await app.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', delivery.event.id)).result();
  expect(outcome).toEqual({ outcome: 'applied', type: 'payment_intent.succeeded' });
}

async function checkPage(page: Page) {
  await expectAccessible(page);
  await expectFitsPhone(page);
}

describe('subscriptions in the browser', { timeout: 240_000 }, () => {
  it('subscribes on a channel page, waits for Stripe, chats with a badge in subscriber-only chat, cancels and keeps access; the creator sees the subscriber and renames a tier', async () => {
    // A creator on air (no encoder needed: chat and room frames only read the stream's row).
    const creatorPage = await app.newPage();
    const creator = await registerThroughPage(app, creatorPage);
    const creatorId = await userIdOf(creator.username);
    await setRole(app.ctx.db, creatorId, 'creator');
    const streamId = await insertStream(app.ctx, creatorId, 'live');

    // The creator makes the chat subscriber-only from the dashboard.
    await creatorPage.goto(app.url('/dashboard'));
    const chatSettings = creatorPage.getByRole('group', { name: 'Who can chat' });
    await chatSettings.getByLabel('Subscribers only').check();
    await creatorPage.getByText('Now: subscribers only').waitFor();
    expect((await app.ctx.db.selectFrom('streams').select('chat_mode').where('id', '=', streamId).executeTakeFirstOrThrow()).chat_mode).toBe('subscribers');
    // A new stream can start subscriber-only, chosen in the create form.
    await creatorPage.getByLabel('Title').fill('Subscribers from the start');
    await creatorPage.getByRole('combobox', { name: 'Who can chat' }).selectOption({ label: 'Subscribers only' });
    await creatorPage.getByRole('button', { name: 'Create stream' }).click();
    await creatorPage.getByRole('textbox', { name: 'Stream key', exact: true }).waitFor();
    const created = await app.ctx.db.selectFrom('streams').select('chat_mode').where('owner_id', '=', creatorId).where('title', '=', 'Subscribers from the start').executeTakeFirstOrThrow();
    expect(created.chat_mode).toBe('subscribers');

    // Someone who is not subscribed is refused in plain words. (Another person than the
    // subscriber-to-be: the gateway keeps a sender's perks for a few seconds.)
    const bystanderPage = await app.newPage();
    await registerThroughPage(app, bystanderPage);
    await bystanderPage.goto(app.url(`/streams/${streamId}`));
    await bystanderPage.getByText('Subscriber-only chat: the channel’s subscribers can chat').waitFor();
    await bystanderPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    await sendChat(bystanderPage, 'may I?');
    await bystanderPage.getByRole('alert').filter({ hasText: 'Not sent. Subscriber-only chat: only the channel’s subscribers can chat here.' }).waitFor();

    const viewerPage = await app.newPage();
    const viewer = await registerThroughPage(app, viewerPage);
    const viewerId = await userIdOf(viewer.username);

    // The creator watches their own room: the new subscription is announced there.
    await creatorPage.goto(app.url(`/streams/${streamId}`));
    await creatorPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });

    // Subscribe on the channel's page: the tiers with their prices, then waiting for Stripe.
    await viewerPage.goto(app.url(`/@${creator.username}`));
    await viewerPage.getByRole('heading', { name: creator.username, level: 1 }).waitFor();
    await viewerPage.getByRole('button', { name: 'Subscribe', exact: true }).click();
    const tiers = viewerPage.getByRole('group', { name: 'Choose a tier' });
    await tiers.getByLabel('Tier 1: $4.99 a month').waitFor();
    await tiers.getByLabel('Tier 2: $9.99 a month').waitFor();
    await tiers.getByLabel('Tier 3: $24.99 a month').waitFor();
    await checkPage(viewerPage);
    await tiers.getByLabel('Tier 1: $4.99 a month').check();
    await viewerPage.getByRole('button', { name: 'Subscribe for $4.99 a month' }).click();
    const status = viewerPage.getByTestId('subscription-status');
    await status.getByText('Subscribing to Tier 1 ($4.99 a month): Waiting for the payment to be confirmed…').waitFor();
    expect(await subscriptionsOf(viewerId)).toMatchObject([{ tier: 1, price: 499, status: 'incomplete', cancel_at_period_end: false }]);

    // Stripe reports the first invoice paid; the page follows on its own.
    await stripeReportsInvoicePaid(viewerId);
    // The event signals the subscription's workflow, which makes it active.
    await expect.poll(async () => (await subscriptionsOf(viewerId))[0]?.status, { timeout: 60_000 }).toBe('active');
    const [paid] = await subscriptionsOf(viewerId);
    const periodEnd = day(paid!.current_period_end!);
    await status.getByText(`Subscribed: Tier 1 ($4.99 a month). Active, renews on ${periodEnd}`).waitFor();
    await checkPage(viewerPage);
    await creatorPage.getByTestId('chat-announcement').getByText(`${viewer.username} subscribed at Tier 1`).waitFor();

    // Subscriber-only chat: the line carries the badge (tier and months, said in full).
    await viewerPage.goto(app.url(`/streams/${streamId}`));
    await viewerPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    await sendChat(viewerPage, 'first as a subscriber');
    const line = chatMessage(viewerPage, 'first as a subscriber');
    await line.getByRole('img', { name: 'Tier 1 subscriber, 1 month' }).waitFor();
    await chatMessage(creatorPage, 'first as a subscriber').getByRole('img', { name: 'Tier 1 subscriber, 1 month' }).waitFor();
    await viewerPage.getByTestId('subscription-status').getByText(`Active, renews on ${periodEnd}`).waitFor();
    await checkPage(viewerPage);

    // Cancel on /subscriptions: confirmed first, then it runs to the end of the paid period.
    await accountMenu(viewerPage, viewer.username).click();
    await viewerPage.getByRole('link', { name: 'Subscriptions', exact: true }).click();
    await viewerPage.getByRole('heading', { name: 'Your subscriptions', level: 1 }).waitFor();
    const item = viewerPage.getByTestId('subscription').filter({ hasText: creator.username });
    await item.getByTestId('subscription-state').getByText(`Active, renews on ${periodEnd}`).waitFor();
    await checkPage(viewerPage);
    await item.getByRole('button', { name: 'Cancel subscription' }).click();
    await item.getByText(`You keep it until ${periodEnd}`, { exact: false }).waitFor();
    await item.getByRole('button', { name: 'Yes, cancel at the end of the period' }).click();
    await item.getByTestId('subscription-state').getByText(`Cancelled: you keep it until ${periodEnd}, then it ends`).waitFor();
    await item.getByRole('button', { name: 'Resume subscription' }).waitFor();
    expect(await subscriptionsOf(viewerId)).toMatchObject([{ status: 'active', cancel_at_period_end: true }]);
    await checkPage(viewerPage);

    // Access stays until the period ends: the badge and the subscriber-only chat still work.
    await viewerPage.goto(app.url(`/streams/${streamId}`));
    await viewerPage.getByTestId('subscription-status').getByText(`Cancelled: you keep it until ${periodEnd}, then it ends`).waitFor();
    await viewerPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    await sendChat(viewerPage, 'still here until the end');
    await chatMessage(viewerPage, 'still here until the end').getByRole('img', { name: 'Tier 1 subscriber, 1 month' }).waitFor();

    // The creator's subscribers: the count per tier, this month's churn, the list with months and badge.
    await creatorPage.goto(app.url('/dashboard'));
    await creatorPage.getByRole('link', { name: 'Subscribers', exact: true }).click();
    await creatorPage.getByRole('heading', { name: 'Subscribers', level: 1 }).waitFor();
    await creatorPage.getByTestId('subscriber-total').getByText('Subscribers: 1').waitFor();
    expect(await creatorPage.getByTestId('tier-1-count').textContent()).toBe('Tier 11');
    expect(await creatorPage.getByTestId('churn').textContent()).toContain('Started1');
    const row = creatorPage.getByRole('row').filter({ hasText: viewer.username });
    await row.getByRole('img', { name: 'Tier 1 subscriber, 1 month' }).waitFor();
    await checkPage(creatorPage);

    // Renaming a tier: stored, and what the counts (and viewers) show from then on.
    await creatorPage.getByLabel('Name of tier 1 ($4.99 a month)').fill('Fan club');
    await creatorPage.getByRole('button', { name: 'Save tier names' }).click();
    await creatorPage.getByRole('status').filter({ hasText: 'Tier names saved.' }).waitFor();
    await creatorPage.getByTestId('tier-1-count').getByText('Fan club').waitFor();
    expect(await app.ctx.db.selectFrom('subscription_tier_names').select(['tier', 'name']).where('channel_id', '=', creatorId).orderBy('tier').execute()).toEqual([
      { tier: 1, name: 'Fan club' },
      { tier: 2, name: 'Tier 2' },
      { tier: 3, name: 'Tier 3' },
    ]);
    await creatorPage.reload();
    await creatorPage.getByTestId('tier-1-count').getByText('Fan club').waitFor();
    await viewerPage.goto(app.url('/subscriptions'));
    await viewerPage.getByTestId('subscription').filter({ hasText: creator.username }).getByText('Fan club, $4.99 a month').waitFor();

    // The creator's earnings show the period's share, on hold; the books balance.
    await creatorPage.goto(app.url('/dashboard/earnings'));
    await creatorPage.getByRole('heading', { name: 'Earnings', level: 1 }).waitFor();
    await creatorPage.getByRole('row').filter({ hasText: 'Subscription' }).first().waitFor();
    expect(await creatorPage.getByTestId('earnings-pending').textContent()).not.toBe(usd(0));
    await expectWholeBooks(app.ctx.db);
  });
  it('a subscriber-only video: the owner marks it so, a viewer sees Subscribe to watch, subscribes, and the player appears once Stripe reports the invoice paid', async () => {
    const creatorPage = await app.newPage();
    const creator = await registerThroughPage(app, creatorPage);
    const creatorId = await userIdOf(creator.username);
    await setRole(app.ctx.db, creatorId, 'creator');
    const videoId = await insertVideo(app.ctx.db, creatorId, { title: 'For subscribers' });

    // The owner's edit form offers the subscribers visibility.
    await creatorPage.goto(app.url(`/videos/${videoId}`));
    await creatorPage.getByRole('button', { name: 'Edit video' }).click();
    await creatorPage.getByLabel('Visibility').selectOption({ label: 'Subscribers only (your channel’s subscribers)' });
    await creatorPage.getByRole('button', { name: 'Save', exact: true }).click();
    await creatorPage.getByRole('button', { name: 'Edit video' }).waitFor();
    expect((await app.ctx.db.selectFrom('videos').select('visibility').where('id', '=', videoId).executeTakeFirstOrThrow()).visibility).toBe('subscribers');
    // Its owner still gets the player.
    await creatorPage.reload();
    await creatorPage.getByTestId('player').waitFor();

    const viewerPage = await app.newPage();
    const viewer = await registerThroughPage(app, viewerPage);
    const viewerId = await userIdOf(viewer.username);
    await viewerPage.goto(app.url(`/videos/${videoId}`));
    const locked = viewerPage.getByTestId('subscribers-only');
    await locked.getByText('Subscribe to watch.').waitFor();
    expect(await viewerPage.getByTestId('player').count()).toBe(0);
    await locked.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await locked.getByLabel('Tier 2: $9.99 a month').check();
    await checkPage(viewerPage);
    await locked.getByRole('button', { name: 'Subscribe for $9.99 a month' }).click();
    await locked.getByTestId('subscription-status').getByText('Subscribing to Tier 2 ($9.99 a month): Waiting for the payment to be confirmed…').waitFor();
    expect(await viewerPage.getByTestId('player').count()).toBe(0);

    await stripeReportsInvoicePaid(viewerId);
    await viewerPage.getByTestId('player').waitFor();
    expect(await locked.count()).toBe(0);
    expect(await subscriptionsOf(viewerId)).toMatchObject([{ tier: 2, status: 'active' }]);
    await checkPage(viewerPage);
    await expectWholeBooks(app.ctx.db);
  });

  it('gifts a subscription in a live room: paid like a tip, handed to a viewer in the room, announced, and the recipient sees it', async () => {
    const creator = await registerThroughPage(app, await app.newPage());
    const creatorId = await userIdOf(creator.username);
    await setRole(app.ctx.db, creatorId, 'creator');
    const streamId = await insertStream(app.ctx, creatorId, 'live');

    // The recipient-to-be watches the room (signed in), as does the giver.
    const recipientPage = await app.newPage();
    const recipient = await registerThroughPage(app, recipientPage);
    const recipientId = await userIdOf(recipient.username);
    await recipientPage.goto(app.url(`/streams/${streamId}`));
    await recipientPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    const giverPage = await app.newPage();
    const giver = await registerThroughPage(app, giverPage);
    const giverId = await userIdOf(giver.username);
    await giverPage.goto(app.url(`/streams/${streamId}`));
    await giverPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    // The gateway has recorded the recipient as a signed-in viewer of the room (what a gift draws from).
    await expect
      .poll(async () => (await app.ctx.db.selectFrom('stream_viewers').select('viewer_key').where('stream_id', '=', streamId).execute()).map((v) => v.viewer_key), { timeout: 30_000 })
      .toContain(`u:${recipientId}`);

    const form = giverPage.getByRole('form', { name: 'Gift subscriptions' });
    await form.getByLabel('Subscription tier').selectOption({ label: 'Tier 1 ($4.99 each)' });
    await form.getByLabel('Number of subscriptions').fill('1');
    await form.getByRole('button', { name: 'Gift subscriptions' }).click();
    const payment = form.getByTestId('payment-status');
    await payment.getByText(`Your gift of 1 Tier 1 subscription (${usd(499)}): Waiting for the payment to be confirmed…`).waitFor();
    expect(await app.ctx.db.selectFrom('payments').select(['kind', 'amount', 'status', 'creator_id']).where('payer_id', '=', giverId).execute()).toEqual([
      { kind: 'subscription_gift', amount: 499, status: 'requires_payment', creator_id: creatorId },
    ]);
    await checkPage(giverPage);

    await stripeReportsPaid(giverId);
    await payment.getByText(`Your gift of 1 Tier 1 subscription (${usd(499)}): Paid.`).waitFor();
    await form.getByTestId('gift-recipients').getByText(`Given to 1 viewer: ${recipient.username}.`).waitFor();
    await recipientPage.getByTestId('chat-announcement').getByText(`${giver.username} gifted ${recipient.username} a Tier 1 subscription`).waitFor();
    expect(await subscriptionsOf(recipientId)).toMatchObject([{ tier: 1, status: 'active' }]);

    // The recipient's subscription: a gift, ending after its month, with nothing to cancel.
    await recipientPage.goto(app.url('/subscriptions'));
    const item = recipientPage.getByTestId('subscription').filter({ hasText: creator.username });
    await item.getByTestId('subscription-state').getByText(`Gifted by ${giver.username}, ends on`).waitFor();
    expect(await item.getByRole('button', { name: 'Cancel subscription' }).count()).toBe(0);
    await checkPage(recipientPage);
    await expectWholeBooks(app.ctx.db);
  });
});
