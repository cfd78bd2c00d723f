import { describe, expect, it } from 'vitest';
import { accountCode, auditAccounts, balancesOf, credit, debit, platformAccount, postEntry, trialBalance, userAccount } from '../../lib/ledger/index.ts';
import { matureCreatorEarnings } from '../../lib/money/maturation.ts';
import { tipLines, type MoneyRules } from '../../lib/money/rules.ts';
import { useTestContext } from '../support/context.ts';
import { insertBulkUsers } from '../support/fixtures.ts';
import { withWorkers } from '../support/workers.ts';

const t = useTestContext();
const rules: MoneyRules = { currency: 'USD', platformFeeBps: 1000, processingFeeBps: 290, processingFeeFixed: 30n, coinCreatorValue: 1n };
const DAY = 24 * 60 * 60 * 1000;
let tips = 0;

/** A paid tip booked as the payment flow books it, credited to pending `daysAgo` days ago. */
const tip = (creatorId: string, amount: bigint, daysAgo: number) =>
  postEntry(t.ctx.db, { idempotencyKey: `test-tip/${++tips}`, kind: 'tip', effectiveAt: new Date(Date.now() - daysAgo * DAY), lines: tipLines(creatorId, amount, rules) });

async function earnings(creatorId: string) {
  const refs = { pending: userAccount('earnings_pending', creatorId, 'USD'), available: userAccount('earnings_available', creatorId, 'USD') };
  const balances = await balancesOf(t.ctx.db, Object.values(refs));
  return { pending: balances.get(accountCode(refs.pending)), available: balances.get(accountCode(refs.available)) };
}

const runMaturation = (holdDays: number) =>
  withWorkers(
    t.ctx,
    () =>
      t.ctx.temporal.client.workflow.execute('earningsMaturationWorkflow', {
        taskQueue: t.ctx.config.temporal.taskQueue,
        workflowId: `earnings-maturation/test-${Date.now()}-${Math.random()}`,
        args: [{ holdDays, currency: 'USD' }],
      }),
    { media: false },
  );

describe('earnings maturation', () => {
  it('makes earnings held 7 days available, leaves newer ones pending, and moves nothing twice', async () => {
    const [creator, other] = await insertBulkUsers(t.ctx.db, 2);
    await tip(creator!, 1000n, 8); // creator share 841
    await tip(creator!, 2000n, 7.5); // 1712
    await tip(creator!, 500n, 2); // 406
    await tip(other!, 1000n, 1); // 841, not yet

    const first = await runMaturation(7);
    expect(first).toMatchObject({ moved: String(841 + 1712) });
    expect(await earnings(creator!)).toEqual({ pending: 406n, available: 841n + 1712n });
    expect(await earnings(other!)).toEqual({ pending: 841n, available: 0n });

    expect(await runMaturation(7)).toEqual({ creators: 0, moved: '0' });
    expect(await earnings(creator!)).toEqual({ pending: 406n, available: 841n + 1712n });
    for (const line of await trialBalance(t.ctx.db)) expect(line.difference).toBe(0n);
    expect(await auditAccounts(t.ctx.db)).toEqual([]);
  });

  it('never makes available what a refund already took out of pending', async () => {
    const [creator] = await insertBulkUsers(t.ctx.db, 1);
    await tip(creator!, 1000n, 10); // 841 matured
    // A refund taken from pending first (the refund flow's rule).
    await postEntry(t.ctx.db, {
      idempotencyKey: `test-refund/${creator}`,
      kind: 'refund',
      lines: [debit(userAccount('earnings_pending', creator!, 'USD'), 300n), credit(platformAccount('provider_clearing', 'USD'), 300n)],
    });
    expect(await matureCreatorEarnings(t.ctx.db, { creatorId: creator!, currency: 'USD', cutoff: new Date(Date.now() - 7 * DAY) })).toBe(541n);
    expect(await earnings(creator!)).toEqual({ pending: 0n, available: 541n });
  });

  it('runs that overlap with different cutoffs move each cent once', async () => {
    const [creator] = await insertBulkUsers(t.ctx.db, 1);
    for (let i = 0; i < 10; i++) await tip(creator!, 1000n, 10 + i);
    const cutoffs = Array.from({ length: 8 }, (_, i) => new Date(Date.now() - (7 + i / 10) * DAY));
    const moved = await Promise.all(cutoffs.map((cutoff) => matureCreatorEarnings(t.ctx.db, { creatorId: creator!, currency: 'USD', cutoff })));
    expect(moved.reduce((a, b) => a + b, 0n)).toBe(8410n);
    expect(await earnings(creator!)).toEqual({ pending: 0n, available: 8410n });
    // The same cutoff again (a retried activity) finds its entry and moves nothing.
    expect(await matureCreatorEarnings(t.ctx.db, { creatorId: creator!, currency: 'USD', cutoff: cutoffs[0]! })).toBe(0n);
  });
});
