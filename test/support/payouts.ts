import type { App } from '../../api/app.ts';
import type { Db } from '../../lib/db.ts';
import { accountCode, balancesOf, postEntry, userAccount } from '../../lib/ledger/index.ts';
import { maturationLines, splitTip, tipLines, type MoneyRules } from '../../lib/money/rules.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { payoutRunProgressQuery, type PayoutRunPhase, type PayoutRunState } from '../../workflows/payout-run.ts';
import { until } from './gateway.ts';
import { call } from './http.ts';
import { sendStripeEvent } from './stripe.ts';
import type { TestUser } from './fixtures.ts';
import type { Config } from '../../lib/config.ts';
import { maskIban } from '../../lib/payouts/iban.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { insertBulkUsers } from './fixtures.ts';

// Fixtures for payout tests. Earnings stand in for paid tips: a tip booked by the money rules,
// then matured, exactly as the payment flow and the maturation schedule would book them.

export const rules: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
let tips = 0;

/** Books a paid tip of `tipAmount` to the creator and makes its share available; returns the share. */
export async function giveAvailableEarnings(db: Db, creatorId: string, tipAmount: bigint): Promise<bigint> {
  const n = ++tips;
  const share = splitTip(tipAmount, rules).creator;
  await postEntry(db, { idempotencyKey: `test-tip/${creatorId}/${n}`, kind: 'tip', lines: tipLines(creatorId, tipAmount, rules) });
  await postEntry(db, { idempotencyKey: `test-mature/${creatorId}/${n}`, kind: 'earnings.matured', lines: maturationLines(creatorId, share, 'USD') });
  return share;
}

export async function earningsOf(db: Db, creatorId: string) {
  const refs = { available: userAccount('earnings_available', creatorId, 'USD'), reserved: userAccount('earnings_reserved', creatorId, 'USD') };
  const balances = await balancesOf(db, Object.values(refs));
  return { available: balances.get(accountCode(refs.available))!, reserved: balances.get(accountCode(refs.reserved))! };
}

export const TEST_IBANS = ['DE89370400440532013000', 'GB82WEST12345698765432', 'NL91ABNA0417164300', 'FR1420041010050500013M02606', 'BE68539007547034'];

export async function setBankMethod(app: App, user: TestUser, iban: string, accountHolder = `Holder ${user.username}`) {
  const res = await call(app, 'PUT', '/api/v1/creators/me/payout-method', { headers: user.auth, body: { kind: 'bank_transfer', accountHolder, iban } });
  if (res.status !== 200) throw new Error(`payout method: ${res.status} ${res.text}`);
  return res.json.data;
}

/** Connect onboarding through the API, then Stripe's `account.updated` saying payouts are enabled. */
export async function setStripeMethod(app: App, config: Config, db: Db, user: TestUser) {
  const res = await call(app, 'PUT', '/api/v1/creators/me/payout-method', { headers: user.auth, body: { kind: 'stripe' } });
  if (res.status !== 200) throw new Error(`payout method: ${res.status} ${res.text}`);
  const accountId = res.json.data.method.stripeAccountId as string;
  await sendStripeEvent(app, config, { type: 'account.updated', object: { id: accountId, object: 'account', payouts_enabled: true, details_submitted: true, metadata: { userId: user.id } } });
  await until(async () => (await db.selectFrom('payout_methods').select('status').where('user_id', '=', user.id).executeTakeFirst())?.status === 'verified', 'the Stripe method to be verified', 30_000);
  return res.json.data;
}

export const runProgress = (temporal: Temporal, runId: string): Promise<PayoutRunState> => temporal.client.workflow.getHandle(workflowIds.payoutRun(runId)).query(payoutRunProgressQuery);

export async function untilPhase(temporal: Temporal, runId: string, phases: PayoutRunPhase[], timeoutMs = 60_000): Promise<PayoutRunState> {
  let last: PayoutRunState | undefined;
  try {
    await until(
      async () => {
        last = await runProgress(temporal, runId).catch(() => undefined);
        return Boolean(last && phases.includes(last.phase));
      },
      `payout run ${runId} to reach ${phases.join(' or ')}`,
      timeoutMs,
    );
  } catch (err) {
    // Where it stood when the wait ran out (the message above is written before the first look).
    throw new Error(`${(err as Error).message}; last seen: ${last ? `${last.phase}, ${last.unsettled} unsettled` : 'no answer to the progress query'}`);
  }
  return last!;
}

/**
 * `count` bulk creators with verified methods and `tipAmount` worth of available earnings each
 * (set-based where the ledger allows; for chaos tests and benches). Returns their ids and shares.
 */
export async function insertEligibleCreators(
  db: Db,
  box: SecretBox,
  count: number,
  method: 'bank_transfer' | 'stripe',
  tipAmount = 10_000n,
  concurrency = 1,
): Promise<{ ids: string[]; share: bigint }> {
  const ids = await insertBulkUsers(db, count);
  const sealed = box.seal(TEST_IBANS[0]!);
  await db
    .insertInto('payout_methods')
    .values(
      ids.map((id) =>
        method === 'stripe'
          ? { user_id: id, kind: 'stripe' as const, status: 'verified' as const, stripe_account_id: 'acct_test' }
          : { user_id: id, kind: 'bank_transfer' as const, status: 'verified' as const, account_holder: 'Bulk Creator', iban_sealed: sealed, iban_masked: maskIban(TEST_IBANS[0]!) },
      ),
    )
    .execute();
  let share = 0n;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) share = await giveAvailableEarnings(db, ids[next++]!, tipAmount);
    }),
  );
  return { ids, share };
}

/** Every ledger entry of payouts, by idempotency key (to count what was booked per creator). */
export async function payoutEntryKeys(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('ledger_entries').select('idempotency_key').where('kind', 'like', 'payout.%').execute();
  return rows.map((r) => r.idempotency_key);
}
