import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { trialBalance } from '../../lib/ledger/index.ts';
import { compactId } from '../../lib/payouts/pain001.ts';
import { setRole } from '../support/fixtures.ts';
import { earningsOf, giveAvailableEarnings, TEST_IBANS } from '../support/payouts.ts';
import { newPerson, useBrowserApp } from './support/harness.ts';
import { horizontalOverflow, PHONE, recordTexts, registerThroughPage, seriousViolations, signInThroughPage, signOutThroughPage } from './support/pages.ts';

// Finance's pages against the real stack: two finance users run a payout run through the
// pages (the payout-run workflow on real workers), the second-person approval rule refused
// in the API's words, a creator excluded at approval, the pain.001 file and the bank's status report, then the ledger's
// trial balance; and an administrator's payout hold.

const app = useBrowserApp({ workers: true });

async function apiCall(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(app.url(path), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: Record<string, unknown> };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

/** A creator (registered through the API) with a bank account and a matured tip's worth of available earnings. */
async function creatorWithEarnings(iban: string) {
  const person = newPerson();
  const { user, accessToken } = (await apiCall('POST', '/api/v1/auth/register', undefined, person)) as { user: { id: string }; accessToken: string };
  await apiCall('PUT', '/api/v1/creators/me/payout-method', accessToken, { kind: 'bank_transfer', accountHolder: `Holder ${person.username}`, iban });
  const share = await giveAvailableEarnings(app.ctx.db, user.id, 10_000n);
  return { ...person, id: user.id, share };
}

/** Registers through the page, is given the role, and signs in again (the role is in the token). */
async function staffPerson(page: Page, role: 'finance' | 'admin') {
  const person = await registerThroughPage(app, page);
  const { id } = await app.ctx.db.selectFrom('users').select('id').where('username', '=', person.username).executeTakeFirstOrThrow();
  await setRole(app.ctx.db, id, role);
  await signOutThroughPage(page, person.username);
  await signInThroughPage(app, page, person);
  return { ...person, id };
}

async function expectAccessible(page: Page, what: string) {
  await expect.poll(() => page.getByText('Loading…').count(), { timeout: 15_000 }).toBe(0);
  expect(await seriousViolations(page), what).toEqual([]);
}

describe('finance pages', () => {
  it('two finance users run a payout: self-approval refused with its reason, the other approves excluding one creator, the bank file, the bank report and a hand settle it, the books balance', async () => {
    const { db } = app.ctx;
    const [paid, rejected, left] = [await creatorWithEarnings(TEST_IBANS[0]!), await creatorWithEarnings(TEST_IBANS[1]!), await creatorWithEarnings(TEST_IBANS[3]!)];

    // A plain user has no Finance link, and the page refuses them clearly.
    const pageA = await app.newPage();
    const plain = await registerThroughPage(app, pageA);
    expect(await pageA.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Finance' }).count()).toBe(0);
    await pageA.goto(app.url('/finance/payout-runs'));
    await pageA.getByText('Only finance staff and administrators can see finance pages.').waitFor();
    await signOutThroughPage(pageA, plain.username);

    // Finance A starts a USD run from the page.
    const a = await staffPerson(pageA, 'finance');
    await pageA.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Finance' }).click();
    await pageA.getByRole('heading', { name: 'Payout runs', level: 1 }).waitFor();
    await pageA.getByText('No payout runs yet.').waitFor();
    await expectAccessible(pageA, '/finance/payout-runs');
    await pageA.getByLabel('Currency').fill('USD');
    await pageA.getByRole('button', { name: 'Start payout run' }).click();
    await pageA.waitForURL(/\/finance\/payout-runs\/[0-9a-f-]{36}$/);
    const runId = pageA.url().split('/').at(-1)!;
    const phases = await recordTexts(pageA, 'run-phase');

    // Its progress: creators selected and reserved, awaiting approval, each item shown.
    const phase = pageA.getByTestId('run-phase');
    await expect.poll(() => phase.textContent(), { timeout: 60_000 }).toBe('awaiting approval');
    const items = pageA.getByTestId('payout-item');
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(3);
    for (const creator of [paid, rejected, left]) {
      const row = items.filter({ hasText: creator.username });
      expect(await row.textContent()).toContain(`$${(Number(creator.share) / 100).toFixed(2)}`);
      expect(await row.textContent()).toContain('reserved');
    }
    await expectAccessible(pageA, '/finance/payout-runs/:id awaiting approval');

    // A may not approve their own run: the API's reason is shown, and nothing changed.
    await pageA.getByRole('button', { name: 'Approve run' }).click();
    await pageA.getByRole('alert').getByText('The user who started a payout run cannot approve it').waitFor();
    expect(await db.selectFrom('payout_runs').select(['status', 'approved_by', 'started_by']).where('id', '=', runId).executeTakeFirstOrThrow()).toEqual({
      status: 'awaiting_approval',
      approved_by: null,
      started_by: a.id,
    });

    // Finance B finds the run in the list and approves it.
    const pageB = await app.newPage();
    const b = await staffPerson(pageB, 'finance');
    await pageB.goto(app.url('/finance/payout-runs'));
    await pageB.getByRole('region', { name: 'Payout runs' }).getByRole('link').first().click();
    await pageB.waitForURL(app.url(`/finance/payout-runs/${runId}`));
    await pageB.getByRole('checkbox', { name: `Exclude ${left.username} from this run` }).check();
    await pageB.getByRole('button', { name: 'Approve run, excluding 1 creator' }).click();
    await pageB.getByText('Approved, 1 excluded.').waitFor();

    // The workflow pays by bank transfer: A's page follows it to settling, with the file ready.
    await expect.poll(() => phase.textContent(), { timeout: 90_000 }).toBe('settling');
    await pageA.getByRole('button', { name: 'Get bank file (pain.001)' }).click();
    const download = pageA.getByRole('link', { name: /^Download payout-run-[0-9a-f]{32}-pain001\.xml$/ });
    const xml = await (await fetch((await download.getAttribute('href'))!)).text();
    expect(xml).toContain('<NbOfTxs>2</NbOfTxs>');
    expect(xml).toContain(TEST_IBANS[0]);
    expect(xml).toContain(TEST_IBANS[1]);
    expect(xml).not.toContain(TEST_IBANS[3]);

    // The bank's report rejects one transfer with its reason; finance marks the other paid by hand.
    const itemIds = new Map(
      (await db.selectFrom('payout_items').select(['id', 'user_id']).where('run_id', '=', runId).execute()).map((i) => [i.user_id, compactId(i.id)]),
    );
    await pageA.getByLabel('Bank status report').fill(['end_to_end_id,status,reason', `${itemIds.get(rejected.id)},RJCT,AC04 account closed`].join('\n'));
    await pageA.getByRole('button', { name: 'Upload bank status' }).click();
    await pageA.getByText('Settled 1, returned 0, already settled 0.').waitFor();
    await pageA.getByRole('button', { name: `Mark ${paid.username}'s payout paid` }).click();

    // The run ends; the page shows each item's outcome and the failure's reason.
    await expect.poll(() => phase.textContent(), { timeout: 90_000 }).toBe('completed');
    await items.filter({ hasText: paid.username }).getByText('paid', { exact: true }).waitFor();
    expect(await items.filter({ hasText: rejected.username }).getByText('failed', { exact: true }).count()).toBe(1);
    expect(await items.filter({ hasText: rejected.username }).textContent()).toContain('AC04 account closed');
    expect(await phases()).toEqual(expect.arrayContaining(['awaiting approval', 'settling', 'completed']));
    expect(await db.selectFrom('payout_runs').select(['status', 'approved_by']).where('id', '=', runId).executeTakeFirstOrThrow()).toEqual({ status: 'completed', approved_by: b.id });
    expect(await earningsOf(db, paid.id)).toEqual({ available: 0n, reserved: 0n });
    expect(await earningsOf(db, rejected.id)).toEqual({ available: rejected.share, reserved: 0n });
    expect(await earningsOf(db, left.id)).toEqual({ available: left.share, reserved: 0n });
    expect(await items.filter({ hasText: left.username }).getByText('released', { exact: true }).count()).toBe(1);
    await expectAccessible(pageA, '/finance/payout-runs/:id completed');
    await pageA.setViewportSize(PHONE);
    expect(await horizontalOverflow(pageA)).toBe(0);
    await pageA.setViewportSize({ width: 1280, height: 800 });

    // The ledger: every currency sums to zero, on the page as in the database.
    await pageA.getByRole('navigation', { name: 'Finance' }).getByRole('link', { name: 'Ledger' }).click();
    await expect.poll(() => pageA.getByTestId('books-status').textContent(), { timeout: 15_000 }).toMatch(/^The books balance/);
    const rows = pageA.getByTestId('trial-balance-row');
    const lines = await trialBalance(db);
    expect(lines.map((l) => l.currency)).toContain('USD');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(lines.length);
    for (const line of lines) {
      expect(line.difference).toBe(0n);
      expect(await rows.filter({ hasText: line.currency }).locator('td').last().textContent()).toMatch(/^\D*0(\.00)?\D*$/);
    }
    await expectAccessible(pageA, '/finance/ledger');
    await pageA.setViewportSize(PHONE);
    expect(await horizontalOverflow(pageA)).toBe(0);
    await pageA.setViewportSize({ width: 1280, height: 800 });

    // The rejected creator's available earnings account: its postings, with their money back.
    await pageA.getByLabel('Currency').fill('USD');
    await pageA.getByRole('button', { name: 'Show accounts' }).click();
    await pageA.getByRole('region', { name: 'Accounts' }).getByRole('link', { name: `${rejected.id}:earnings_available:USD` }).click();
    await pageA.getByRole('heading', { name: 'Ledger account', level: 1 }).waitFor();
    expect(await pageA.getByTestId('account-balance').textContent()).toContain(`$${(Number(rejected.share) / 100).toFixed(2)}`);
    await expect.poll(() => pageA.getByTestId('posting').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3); // matured, reserved, returned
    await expectAccessible(pageA, '/finance/ledger/accounts/:id');
  }, 300_000);

  it('an administrator places and lifts a payout hold (finance sees it), then cancels a run before approval', async () => {
    const creator = await creatorWithEarnings(TEST_IBANS[2]!);
    const page = await app.newPage();
    await staffPerson(page, 'admin');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Finance' }).click();
    await page.getByRole('navigation', { name: 'Finance' }).getByRole('link', { name: 'Payout holds' }).click();
    await page.getByText('No creator is on payout hold.').waitFor();
    await page.getByLabel('Creator (username or id)').fill(creator.username);
    await page.getByLabel('Reason').fill('Identity check pending');
    await page.getByRole('button', { name: 'Place hold' }).click();
    const held = page.getByRole('region', { name: 'Payout holds' }).getByRole('row').filter({ hasText: 'Identity check pending' });
    await held.getByRole('link', { name: creator.username }).waitFor();
    expect(await app.ctx.db.selectFrom('payout_holds').select(['user_id', 'reason']).where('lifted_at', 'is', null).execute()).toEqual([{ user_id: creator.id, reason: 'Identity check pending' }]);
    await expectAccessible(page, '/finance/payout-holds');

    // Finance reads the hold but places and lifts none.
    const financePage = await app.newPage();
    await staffPerson(financePage, 'finance');
    await financePage.goto(app.url('/finance/payout-holds'));
    await financePage.getByRole('link', { name: creator.username }).waitFor();
    expect(await financePage.getByRole('button', { name: /Lift|Place hold/ }).count()).toBe(0);

    await held.getByRole('button', { name: `Lift the hold on ${creator.username}` }).click();
    await page.getByText('No creator is on payout hold.').waitFor();
    expect(await app.ctx.db.selectFrom('payout_holds').select('id').where('user_id', '=', creator.id).where('lifted_at', 'is', null).execute()).toEqual([]);

    // Lifted, the creator is in the next run; cancelled before approval, their earnings are released.
    await page.getByRole('navigation', { name: 'Finance' }).getByRole('link', { name: 'Payout runs' }).click();
    await page.getByRole('button', { name: 'Start payout run' }).click();
    await page.waitForURL(/\/finance\/payout-runs\/[0-9a-f-]{36}$/);
    const phase = page.getByTestId('run-phase');
    await expect.poll(() => phase.textContent(), { timeout: 60_000 }).toBe('awaiting approval');
    await page.getByTestId('payout-item').filter({ hasText: creator.username }).waitFor();
    expect(await earningsOf(app.ctx.db, creator.id)).toEqual({ available: 0n, reserved: creator.share });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(() => phase.textContent(), { timeout: 60_000 }).toBe('cancelled');
    expect(await earningsOf(app.ctx.db, creator.id)).toEqual({ available: creator.share, reserved: 0n });
  }, 180_000);
});
