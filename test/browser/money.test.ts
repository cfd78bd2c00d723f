import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerPaymentEventHandlers } from '../../activities/payment-handlers.ts';
import { STRIPE_WEBHOOK_PATH } from '../../api/payments/webhooks.ts';
import { maskIban } from '../../lib/payouts/iban.ts';
import { moneyRules } from '../../lib/money/config.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { setRole } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { fundWallet } from '../support/money.ts';
import { moneyOf, stripeObjects } from '../support/payments.ts';
import { stripeDelivery } from '../support/stripe.ts';
import { insertVideo } from '../support/videos.ts';
import { useBrowserApp } from './support/harness.ts';
import { horizontalOverflow, registerThroughPage, seriousViolations } from './support/pages.ts';

// Money in the browser: coin packs bought on the wallet page, gifts and tips on the watch
// page, a tip on a video's page, a creator's earnings and payout method. stripe-mock cannot run Stripe.js in a page,
// so a page starts the payment through the API and shows it waiting; the test then delivers
// Stripe's signed `payment_intent.succeeded` to the webhook as the integration tests do, real
// workers apply it (its workflow), and the page must show the outcome on its own.

const app = useBrowserApp({ workers: true });
// The money handlers in the workers' registry, as the worker entrypoint puts them (workers/main.ts).
beforeAll(() =>
  registerPaymentEventHandlers({
    rules: moneyRules(app.ctx.config),
    disputeFee: BigInt(app.ctx.config.payments.disputeFeeMinor),
    subscriptionShareBps: app.ctx.config.subscriptions.creatorShareBps,
    gifts: { graceSeconds: app.ctx.config.subscriptions.graceSeconds },
    logger: app.ctx.logger,
  }),
);
const usd = (minor: number | bigint) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(Number(minor) / 100);

const userIdOf = async (username: string) => (await app.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow()).id;

const paymentsOf = (payerId: string) =>
  app.ctx.db.selectFrom('payments').select(['id', 'kind', 'amount', 'status', 'provider_payment_intent_id']).where('payer_id', '=', payerId).orderBy('created_at').execute();

/** Stripe reports the payer's only pending payment as paid: signed, through the webhook, applied by its workflow. */
async function stripeReportsPaid(payerId: string) {
  const pending = (await paymentsOf(payerId)).filter((p) => p.status === 'requires_payment');
  expect(pending).toHaveLength(1);
  const p = pending[0]!;
  const object = stripeObjects.succeeded({ id: p.id, kind: p.kind, amount: Number(p.amount), paymentIntentId: p.provider_payment_intent_id! });
  const delivery = stripeDelivery(app.ctx.config, { type: 'payment_intent.succeeded', object });
  const res = await fetch(app.url(STRIPE_WEBHOOK_PATH), { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': delivery.signature }, body: delivery.body });
  expect(res.status, await res.text()).toBe(200);
  const outcome = await app.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', delivery.event.id)).result();
  expect(outcome).toEqual({ outcome: 'applied', type: 'payment_intent.succeeded' });
}

async function expectAccessible(page: Page) {
  await expect.poll(() => page.getByText('Loading…').count()).toBe(0);
  expect(await seriousViolations(page)).toEqual([]);
  expect(await horizontalOverflow(page)).toBe(0);
}

describe('money in the browser', { timeout: 180_000 }, () => {
  it('buys a coin pack: the purchase waits for Stripe, then the wallet holds the coins', async () => {
    const page = await app.newPage();
    const viewer = await registerThroughPage(app, page);
    const viewerId = await userIdOf(viewer.username);
    await page.getByLabel(`Account menu for ${viewer.username}`).click();
    await page.getByRole('link', { name: 'Wallet', exact: true }).click();
    await page.getByRole('heading', { name: 'Wallet', level: 1 }).waitFor();
    await page.getByTestId('coin-balance').getByText(/^Balance: 0 coins$/).waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: `Buy 500 coins for ${usd(700)}` }).click();
    const status = page.getByTestId('payment-status');
    await status.getByText(`Buying 500 coins (${usd(700)}): Waiting for the payment to be confirmed…`).waitFor();
    expect(await paymentsOf(viewerId)).toMatchObject([{ kind: 'coin_purchase', amount: 700, status: 'requires_payment' }]);
    expect(await page.getByTestId('coin-balance').textContent()).toBe('Balance: 0 coins');

    await stripeReportsPaid(viewerId);
    await status.getByText(`Buying 500 coins (${usd(700)}): Paid.`).waitFor();
    await page.getByTestId('coin-balance').getByText(/^Balance: 500 coins$/).waitFor();
    expect((await moneyOf(app.ctx.db, { buyerId: viewerId })).wallet).toBe(500n);
    const history = page.getByRole('row').filter({ hasText: 'Coins bought' });
    expect(await history.count()).toBe(1);
    expect(await history.textContent()).toContain('+500');
    await expectAccessible(page);
  });

  it('sends gifts and a tip on a live stream; a gift the wallet cannot pay is refused; the creator’s earnings show them', async () => {
    const creatorPage = await app.newPage();
    const creator = await registerThroughPage(app, creatorPage);
    const creatorId = await userIdOf(creator.username);
    await setRole(app.ctx.db, creatorId, 'creator');
    // A broadcast on air (no encoder needed: gifts and tips only read the stream's status).
    const streamId = await insertStream(app.ctx, creatorId, 'live');

    const viewerPage = await app.newPage();
    const viewer = await registerThroughPage(app, viewerPage);
    const viewerId = await userIdOf(viewer.username);
    await fundWallet(app.ctx, viewerId, 15n);
    await viewerPage.goto(app.url(`/streams/${streamId}`));
    await viewerPage.getByTestId('stream-status').getByText('LIVE').waitFor();
    // In the room (gift and donation frames reach joined sockets only).
    await viewerPage.getByText('Connecting to chat…').waitFor({ state: 'detached' });
    await viewerPage.getByTestId('wallet-balance').getByText(/^Your wallet: 15 coins/).waitFor();

    await viewerPage.getByLabel('Gift', { exact: true }).selectOption({ label: 'Rose (10 coins)' });
    await viewerPage.getByRole('button', { name: 'Send gift' }).click();
    await viewerPage.getByRole('status').filter({ hasText: 'You sent Rose (10 coins). 5 coins left.' }).waitFor();
    await viewerPage.getByTestId('room-events').getByText(`${viewer.username} sent Rose (10 coins)`).waitFor();
    await viewerPage.getByTestId('leaderboard').getByText(`${viewer.username}: 10 coins`).waitFor();
    await viewerPage.getByTestId('wallet-balance').getByText(/^Your wallet: 5 coins/).waitFor();

    // The same gift again: 5 coins cannot pay for it. Refused with the reason; nothing spent.
    await viewerPage.getByRole('button', { name: 'Send gift' }).click();
    const refused = viewerPage.getByRole('alert').filter({ hasText: 'Not sent' });
    await refused.waitFor();
    expect(await refused.textContent()).toContain('you do not have enough coins for this gift');
    expect(await app.ctx.db.selectFrom('gift_sends').select('coins').where('stream_id', '=', streamId).execute()).toHaveLength(1);
    expect((await moneyOf(app.ctx.db, { buyerId: viewerId })).wallet).toBe(5n);

    // A tip: started through the API, waiting until Stripe reports it, then announced in the room.
    await viewerPage.getByLabel('Tip amount (USD)').fill('5');
    await viewerPage.getByLabel('Message (optional)').fill('great show');
    await viewerPage.getByRole('button', { name: 'Send tip' }).click();
    const tipStatus = viewerPage.getByTestId('payment-status');
    await tipStatus.getByText(`Your tip (${usd(500)}): Waiting for the payment to be confirmed…`).waitFor();
    expect(await paymentsOf(viewerId)).toMatchObject([{ kind: 'tip', amount: 500, status: 'requires_payment' }]);
    await stripeReportsPaid(viewerId);
    await tipStatus.getByText(`Your tip (${usd(500)}): Paid.`).waitFor();
    // The donation frame names the donor by display name (the username when they have none).
    await viewerPage.getByTestId('room-events').getByText(`tipped ${usd(500)}: great show`).waitFor();
    await expectAccessible(viewerPage);
    await viewerPage.setViewportSize({ width: 390, height: 844 });
    expect(await horizontalOverflow(viewerPage)).toBe(0);

    // The creator's earnings: the gift's value and the tip's share, on hold.
    const { pending } = await moneyOf(app.ctx.db, { creatorId });
    expect(pending).toBeGreaterThan(10n);
    await creatorPage.goto(app.url('/dashboard'));
    await creatorPage.getByRole('link', { name: 'Earnings and payouts' }).click();
    await creatorPage.getByRole('heading', { name: 'Earnings', level: 1 }).waitFor();
    await creatorPage.getByTestId('earnings-pending').getByText(usd(pending)).waitFor();
    expect(await creatorPage.getByTestId('earnings-available').textContent()).toBe(usd(0));
    expect(await creatorPage.getByRole('row').filter({ hasText: 'Gift' }).filter({ hasText: usd(10) }).count()).toBe(1);
    expect(await creatorPage.getByRole('row').filter({ hasText: 'Tip' }).count()).toBeGreaterThan(0);
    await expectAccessible(creatorPage);
  });

  it('tips a creator on a video’s page: the tip names the video, the creator sees their own page without the form', async () => {
    const creatorPage = await app.newPage();
    const creator = await registerThroughPage(app, creatorPage);
    const creatorId = await userIdOf(creator.username);
    const videoId = await insertVideo(app.ctx.db, creatorId, { title: 'Worth a tip' });

    // Signed out: a way to sign in instead of the form.
    const viewerPage = await app.newPage();
    await viewerPage.goto(app.url(`/videos/${videoId}`));
    await viewerPage.getByRole('heading', { name: 'Worth a tip' }).waitFor();
    const support = viewerPage.getByRole('region', { name: 'Support the creator' });
    await support.getByText('to send tips.').waitFor();
    expect(await support.getByRole('button', { name: 'Send tip' }).count()).toBe(0);

    const viewerId = await userIdOf((await registerThroughPage(app, viewerPage)).username);
    await viewerPage.goto(app.url(`/videos/${videoId}`));
    await support.getByLabel('Tip amount (USD)').fill('five');
    await support.getByRole('button', { name: 'Send tip' }).click();
    await support.getByText(`Enter an amount such as ${usd(500)}.`).waitFor();
    expect(await paymentsOf(viewerId)).toEqual([]);

    await support.getByLabel('Tip amount (USD)').fill('3');
    await support.getByRole('button', { name: 'Send tip' }).click();
    await support.getByTestId('payment-status').getByText(`Your tip (${usd(300)}): Waiting for the payment to be confirmed…`).waitFor();
    expect(await app.ctx.db.selectFrom('payments').select(['kind', 'amount', 'video_id', 'stream_id', 'creator_id']).where('payer_id', '=', viewerId).execute()).toEqual([
      { kind: 'tip', amount: 300, video_id: videoId, stream_id: null, creator_id: creatorId },
    ]);
    await stripeReportsPaid(viewerId);
    await support.getByTestId('payment-status').getByText(`Your tip (${usd(300)}): Paid.`).waitFor();
    await expectAccessible(viewerPage);

    // The creator's own video page has no tip form, only where their earnings are.
    await creatorPage.goto(app.url(`/videos/${videoId}`));
    const own = creatorPage.getByRole('region', { name: 'Support the creator' });
    await own.getByRole('link', { name: 'your earnings page' }).waitFor();
    expect(await own.getByRole('button', { name: 'Send tip' }).count()).toBe(0);
  });

  it('saves a bank payout method and shows it masked; an invalid IBAN is refused with its reason; Stripe Connect links to onboarding', async () => {
    const page = await app.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const person = await registerThroughPage(app, page);
    await page.goto(app.url('/dashboard/earnings'));
    // A viewer has no earnings yet, but may set where they will be paid.
    await page.getByText('You have no earnings yet').waitFor();
    await page.getByTestId('payout-method').getByText('You have no payout method yet').waitFor();
    await expectAccessible(page);

    await page.getByLabel('Account holder').fill('Ada Lovelace');
    await page.getByLabel('IBAN', { exact: true }).fill('DE89 3704 0044 0532 0130 01');
    await page.getByRole('button', { name: 'Save payout method' }).click();
    await page.getByText('IBAN: invalid checksum').waitFor();
    await page.getByRole('alert').first().waitFor();

    await page.getByLabel('IBAN', { exact: true }).fill('de89 3704 0044 0532 0130 00');
    await page.getByRole('button', { name: 'Save payout method' }).click();
    await page.getByRole('status').filter({ hasText: 'Payout method saved.' }).waitFor();
    const masked = maskIban('DE89370400440532013000');
    const shown = page.getByTestId('payout-method');
    await shown.getByText(masked).waitFor();
    expect(await shown.textContent()).toBe(`Bank transfer to Ada Lovelace, IBAN ${masked} (verified)`);

    // Kept: a fresh visit shows it, and it is stored sealed (only the mask is readable).
    await page.reload();
    await page.getByTestId('payout-method').getByText(masked).waitFor();
    expect(await page.getByText('0532013000').count()).toBe(0);
    const stored = await app.ctx.db.selectFrom('payout_methods').selectAll().where('user_id', '=', await userIdOf(person.username)).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ kind: 'bank_transfer', status: 'verified', account_holder: 'Ada Lovelace', iban_masked: masked });
    expect(stored.iban_sealed).not.toContain('0532013000');
    await expectAccessible(page);

    // Stripe Connect instead: saved pending, with the link to finish onboarding on Stripe's pages.
    await page.getByLabel('Stripe Connect').check();
    await page.getByRole('button', { name: 'Save payout method' }).click();
    const onboarding = page.getByRole('link', { name: 'Finish onboarding with Stripe' });
    await onboarding.waitFor();
    expect(await onboarding.getAttribute('href')).toMatch(/^https?:\/\//);
    expect(await page.getByTestId('payout-method').textContent()).toMatch(/^Stripe Connect \(acct_\w+\) \(pending: finish onboarding with Stripe\)$/);
  });
});
