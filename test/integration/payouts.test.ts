import { describe, expect, it } from 'vitest';
import { auditAccounts, balancesOf, platformAccount, accountCode, trialBalance } from '../../lib/ledger/index.ts';
import { compactId, payoutIdFromEndToEndId } from '../../lib/payouts/pain001.ts';
import { parseMinorUnits } from '../../lib/payouts/money-format.ts';
import { readObjectText } from '../../lib/s3.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { earningsOf, giveAvailableEarnings, payoutEntryKeys, setBankMethod, setStripeMethod, TEST_IBANS, untilPhase } from '../support/payouts.ts';
import { sendStripeEvent } from '../support/stripe.ts';
import { withWorkers } from '../support/workers.ts';
import { workflowIds } from '../../workflows/ids.ts';

const t = useTestApp();

const all = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);

async function financeUser(role: 'finance' | 'admin' = 'finance'): Promise<TestUser> {
  const user = await newUser(t.app);
  await setRole(t.ctx.db, user.id, role);
  return user;
}

describe('payout methods', () => {
  it('validates the IBAN, stores it sealed and shows only its mask', async () => {
    const creator = await newUser(t.app);
    const bad = await call(t.app, 'PUT', '/api/v1/creators/me/payout-method', { headers: creator.auth, body: { kind: 'bank_transfer', accountHolder: 'Ann Lee', iban: 'DE89370400440532013001' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toEqual([{ field: 'iban', message: 'invalid checksum' }]);

    const saved = await setBankMethod(t.app, creator, 'de89 3704 0044 0532 0130 00', 'Ann Lee');
    expect(saved.method).toMatchObject({ kind: 'bank_transfer', status: 'verified', accountHolder: 'Ann Lee' });
    expect(saved.method.ibanMasked.replace(/ /g, '')).toMatch(/^DE•+3000$/);
    const shown = await call(t.app, 'GET', '/api/v1/creators/me/payout-method', { headers: creator.auth });
    expect(shown.text).not.toContain('370400440532');
    const row = await t.ctx.db.selectFrom('payout_methods').selectAll().where('user_id', '=', creator.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('370400440532');

    expect((await call(t.app, 'GET', '/api/v1/creators/me/payout-method')).status).toBe(401);
  });
});

describe('a payout run end to end', () => {
  it('reserves, refuses self-approval, pays by Stripe and bank file, settles from webhooks and the bank report, and the books balance', async () => {
    await withWorkers(t.ctx, () => endToEnd(), { media: false });
    // Some twenty webhook deliveries, each applied by its own workflow, and the run's own phases.
  }, 240_000);
});

async function endToEnd() {
    const { db } = t.ctx;
    const starter = await financeUser();
    const approver = await financeUser('admin');
    const viewer = await newUser(t.app);

    // Five bank creators, two Stripe creators, and three who must not be paid.
    const bank = await Promise.all(TEST_IBANS.map(() => newUser(t.app)));
    const stripe = await Promise.all([1, 2].map(() => newUser(t.app)));
    const [belowMinimum, onHold, excluded] = await Promise.all([1, 2, 3].map(() => newUser(t.app)));
    const shares = new Map<string, bigint>();
    for (const [i, creator] of bank.entries()) {
      await setBankMethod(t.app, creator, TEST_IBANS[i]!);
      shares.set(creator.id, (await giveAvailableEarnings(db, creator.id, 10_000n)) + (await giveAvailableEarnings(db, creator.id, 2_345n)));
    }
    for (const creator of stripe) {
      await setStripeMethod(t.app, t.ctx.config, db, creator);
      shares.set(creator.id, await giveAvailableEarnings(db, creator.id, 20_000n));
    }
    for (const creator of [belowMinimum!, onHold!, excluded!]) await setBankMethod(t.app, creator, TEST_IBANS[0]!);
    await giveAvailableEarnings(db, belowMinimum!.id, 1_000n); // 841 < 5000
    const holdShare = await giveAvailableEarnings(db, onHold!.id, 10_000n);
    const excludedShare = await giveAvailableEarnings(db, excluded!.id, 10_000n);
    await db.insertInto('payout_holds').values({ user_id: onHold!.id, reason: 'under review', set_by: approver.id }).execute();

    // What a realtime gateway hears for online creators: each push checked against the database the moment it arrives.
    const pushes: Promise<{ subject: string; id: string; type: string; recipientId: string | undefined; storedWhenPushed: boolean }>[] = [];
    const pushSubscription = t.ctx.nats.connection.subscribe(t.ctx.nats.subject('user.*.notifications'), {
      callback: (_err, msg) => {
        const notification = JSON.parse(msg.string()) as { id: string; type: string };
        pushes.push(
          db.selectFrom('notifications').select('recipient_id').where('id', '=', notification.id).executeTakeFirst().then((row) => ({
            subject: msg.subject,
            id: notification.id,
            type: notification.type,
            recipientId: row?.recipient_id,
            storedWhenPushed: row !== undefined,
          })),
        );
      },
    });

    {
      {
        expect((await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: viewer.auth, body: { currency: 'USD' } })).status).toBe(403);
        const started = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: starter.auth, body: { currency: 'USD' } });
        expect(started.status).toBe(202);
        const runId: string = started.json.data.id;
        expect(started.json.data.workflowId).toBe(`payout-run/${runId}`);
        const second = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: approver.auth, body: { currency: 'USD' } });
        expect(second.status).toBe(409);

        const awaiting = await untilPhase(t.ctx.temporal, runId, ['awaiting_approval']);
        expect(awaiting.reserved.count).toBe(8); // 5 bank + 2 Stripe + the one to be excluded
        for (const creator of [...bank, ...stripe]) expect(await earningsOf(db, creator.id)).toEqual({ available: 0n, reserved: shares.get(creator.id) });
        expect((await earningsOf(db, belowMinimum!.id)).reserved).toBe(0n);
        expect(await earningsOf(db, onHold!.id)).toEqual({ available: holdShare, reserved: 0n });

        // Four eyes: the starter and a viewer are refused; nothing changes.
        const self = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/approve`, { headers: starter.auth, body: {} });
        expect(self.status).toBe(403);
        expect(self.json.error.details).toEqual({ reason: 'SelfApproval' });
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/approve`, { headers: viewer.auth, body: {} })).status).toBe(403);
        // The workflow's own validator refuses self-approval too (a caller that skips the API's check).
        const { approvePayoutRunUpdate } = await import('../../workflows/payout-run.ts');
        await expect(
          t.ctx.temporal.client.workflow.getHandle(`payout-run/${runId}`).executeUpdate(approvePayoutRunUpdate, { args: [{ approverId: starter.id, approverRole: 'finance' }] }),
        ).rejects.toThrow();
        expect((await untilPhase(t.ctx.temporal, runId, ['awaiting_approval'])).approval).toBeNull();

        const approved = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/approve`, { headers: approver.auth, body: { exclude: [excluded!.id] } });
        expect(approved.status).toBe(200);
        expect(approved.json.data).toEqual({ approvedBy: approver.id, excluded: 1 });
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/cancel`, { headers: starter.auth })).status).toBe(409);

        const settling = await untilPhase(t.ctx.temporal, runId, ['settling']);
        expect(settling.bankFile).toMatchObject({ count: 5 });
        expect(settling.stripe).toEqual({ submitted: 2, failed: 0 });
        expect(await earningsOf(db, excluded!.id)).toEqual({ available: excludedShare, reserved: 0n });

        // The bank file: one transaction per bank creator, totals that match, exact amounts.
        const link = await call(t.app, 'GET', `/api/v1/finance/payout-runs/${runId}/bank-file`, { headers: starter.auth });
        expect(link.status).toBe(200);
        const xml = await (await fetch(link.json.data.url)).text();
        const items = (await call(t.app, 'GET', `/api/v1/finance/payout-runs/${runId}?limit=100`, { headers: starter.auth })).json.data.items as { id: string; creatorId: string; method: string; status: string; amount: number; stripePayoutId: string | null }[];
        const bankItems = items.filter((i) => i.method === 'bank_transfer' && i.status === 'submitted');
        expect(bankItems).toHaveLength(5);
        expect(all(xml, 'NbOfTxs')).toEqual(['5', '5']);
        const amounts = all(xml, 'InstdAmt').map((a) => parseMinorUnits(a, 'USD'));
        expect(amounts.reduce((a, b) => a + b, 0n)).toBe(parseMinorUnits(all(xml, 'CtrlSum')[0]!, 'USD'));
        const byEndToEnd = new Map(all(xml, 'EndToEndId').map((e, i) => [payoutIdFromEndToEndId(e)!, amounts[i]!]));
        for (const item of bankItems) expect(byEndToEnd.get(item.id)).toBe(shares.get(item.creatorId));
        expect(all(xml, 'IBAN').slice(1).sort()).toEqual([...TEST_IBANS].sort());

        // Stripe settles one paid and one failed (its transfer is reversed, the money returns).
        const stripeItems = items.filter((i) => i.method === 'stripe');
        expect(stripeItems.every((i) => i.status === 'submitted' && i.stripePayoutId)).toBe(true);
        const [paidStripe, failedStripe] = stripeItems;
        // The ids the run stored when it paid them: an event must name the same payout and connected account.
        const storedRefs = new Map(
          (await db.selectFrom('payout_items').select(['id', 'stripe_payout_id', 'stripe_account_id']).where('run_id', '=', runId).where('method', '=', 'stripe').execute()).map((i) => [
            i.id,
            { payoutId: i.stripe_payout_id!, accountId: i.stripe_account_id! },
          ]),
        );
        const paidRefs = storedRefs.get(paidStripe!.id)!;
        const failedRefs = storedRefs.get(failedStripe!.id)!;
        expect(paidRefs.payoutId).toMatch(/^po_/);
        expect(paidRefs.accountId).toMatch(/^acct_/);

        // Signed events that name a sent item but another payout, another connected account, or
        // none, change nothing: each is kept for finance and not applied.
        const applied = async (type: string, object: Record<string, unknown>, account?: string) => {
          const { event, res } = await sendStripeEvent(t.app, t.ctx.config, { type, object, account });
          expect(res.status, res.text).toBe(200);
          expect(await t.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', event.id)).result()).toEqual({ outcome: 'applied', type });
          return event.id;
        };
        const ledgerBefore = await payoutEntryKeys(db);
        const forged = [
          await applied('payout.paid', { id: 'po_forged', object: 'payout', status: 'paid', metadata: { payoutId: paidStripe!.id, runId } }, paidRefs.accountId),
          await applied('payout.paid', { id: paidRefs.payoutId, object: 'payout', status: 'paid', metadata: { payoutId: paidStripe!.id, runId } }, 'acct_someoneelse'),
          await applied('payout.failed', { id: failedRefs.payoutId, object: 'payout', status: 'failed', failure_code: 'account_closed', metadata: { payoutId: failedStripe!.id, runId } }),
        ];
        expect(await payoutEntryKeys(db)).toEqual(ledgerBefore);
        const untouched = await db.selectFrom('payout_items').select(['id', 'status', 'failure_reason', 'settled_by']).where('id', 'in', [paidStripe!.id, failedStripe!.id]).orderBy('id').execute();
        expect(untouched.map((i) => [i.status, i.failure_reason, i.settled_by])).toEqual([
          ['submitted', null, null],
          ['submitted', null, null],
        ]);
        const mismatches = await db.selectFrom('payout_event_mismatches').selectAll().where('run_id', '=', runId).execute();
        expect(mismatches.map((m) => m.event_id).sort()).toEqual([...forged].sort());
        expect(mismatches.find((m) => m.event_id === forged[0])).toMatchObject({ item_id: paidStripe!.id, event_payout_id: 'po_forged', stored_payout_id: paidRefs.payoutId });
        expect(mismatches.find((m) => m.event_id === forged[1])).toMatchObject({ event_account_id: 'acct_someoneelse', stored_account_id: paidRefs.accountId });
        expect(mismatches.find((m) => m.event_id === forged[2])).toMatchObject({ event_account_id: null, stored_account_id: failedRefs.accountId });

        await sendStripeEvent(t.app, t.ctx.config, {
          type: 'payout.paid',
          account: paidRefs.accountId,
          object: { id: paidRefs.payoutId, object: 'payout', status: 'paid', metadata: { payoutId: paidStripe!.id, runId } },
        });
        await sendStripeEvent(t.app, t.ctx.config, {
          type: 'payout.failed',
          account: failedRefs.accountId,
          object: { id: failedRefs.payoutId, object: 'payout', status: 'failed', failure_code: 'account_closed', failure_message: 'The bank account has been closed', metadata: { payoutId: failedStripe!.id, runId } },
        });

        // The bank's report: two paid, one rejected; a line for something else is reported, not guessed.
        const [b1, b2, b3, b4, b5] = bankItems;
        const csv = [
          'end_to_end_id,status,reason',
          `${compactId(b1!.id)},ACSC,`,
          `${compactId(b2!.id)},ACCC,`,
          `${compactId(b3!.id)},RJCT,AC04 account closed`,
          `${compactId(b4!.id)},PDNG,`,
          `${compactId('00000000-0000-4000-8000-000000000000')},ACSC,`,
        ].join('\n');
        const upload = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/bank-status`, { headers: approver.auth, body: { content: csv } });
        expect(upload.status).toBe(200);
        expect(upload.json.data).toMatchObject({ settled: 3, alreadySettled: 0, conflicts: [] });
        expect(upload.json.data.problems).toHaveLength(1);
        const again = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/bank-status`, { headers: approver.auth, body: { content: csv } });
        expect(again.json.data).toMatchObject({ settled: 0, alreadySettled: 3 });
        // Finance settles the last two by hand.
        const manual = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${b4!.id}/settle`, { headers: starter.auth, body: { outcome: 'paid' } });
        expect(manual.status).toBe(200);
        expect(manual.json.data.item.status).toBe('paid');
        // A rejected item cannot be paid after all (failed on a paid one is a return: below).
        const contradict = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${b3!.id}/settle`, { headers: starter.auth, body: { outcome: 'paid' } });
        expect(contradict.status).toBe(409);
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${b5!.id}/settle`, { headers: starter.auth, body: { outcome: 'paid' } })).status).toBe(200);

        const done = await untilPhase(t.ctx.temporal, runId, ['completed'], 90_000);
        expect(done.totals!.byStatus).toEqual({
          paid: { count: 5, amount: String(shares.get(paidStripe!.creatorId)! + shares.get(b1!.creatorId)! + shares.get(b2!.creatorId)! + shares.get(b4!.creatorId)! + shares.get(b5!.creatorId)!) },
          failed: { count: 2, amount: String(shares.get(failedStripe!.creatorId)! + shares.get(b3!.creatorId)!) },
          released: { count: 1, amount: String(excludedShare) },
        });
        const run = await call(t.app, 'GET', `/api/v1/finance/payout-runs/${runId}`, { headers: starter.auth });
        expect(run.json.data.run).toMatchObject({ status: 'completed', startedBy: starter.id, approvedBy: approver.id, hasBankFile: true, hasReport: true });
        const report = await readObjectText(t.ctx.storage, `payouts/${runId}/reconciliation.csv`);
        expect(report!.trim().split('\n')).toHaveLength(1 + 8);
        expect(report).toContain(`payout/${runId}/${b1!.creatorId}/paid`);

        // Ledger: paid creators hold nothing; failed ones have their money back; the platform's cash paid the rest.
        const paidCreators = [paidStripe!, b1!, b2!, b4!, b5!].map((i) => i.creatorId);
        for (const id of paidCreators) expect(await earningsOf(db, id)).toEqual({ available: 0n, reserved: 0n });
        for (const i of [failedStripe!, b3!]) expect(await earningsOf(db, i.creatorId)).toEqual({ available: shares.get(i.creatorId), reserved: 0n });
        const cash = await balancesOf(db, [platformAccount('platform_cash', 'USD')]);
        expect(cash.get(accountCode(platformAccount('platform_cash', 'USD')))).toBe(-paidCreators.reduce((s, id) => s + shares.get(id)!, 0n));
        for (const line of await trialBalance(db)) expect(line.difference).toBe(0n);
        expect(await auditAccounts(db)).toEqual([]);
        const balance = await call(t.app, 'GET', '/api/v1/finance/trial-balance', { headers: approver.auth });
        expect(balance.json.data.balanced).toBe(true);

        // Creators see their payout and, when it failed, why; each got one notification.
        const failedCreator = [...stripe].find((c) => c.id === failedStripe!.creatorId)!;
        const mine = await call(t.app, 'GET', '/api/v1/creators/me/payouts', { headers: failedCreator.auth });
        expect(mine.json.data).toEqual([expect.objectContaining({ runId, status: 'failed', failureReason: 'account_closed: The bank account has been closed', amount: Number(shares.get(failedCreator.id)) })]);
        const rejected = bank.find((c) => c.id === b3!.creatorId)!;
        expect((await call(t.app, 'GET', '/api/v1/creators/me/payouts', { headers: rejected.auth })).json.data[0]).toMatchObject({ status: 'failed', failureReason: 'AC04 account closed' });
        const notes = await db.selectFrom('notifications').select(['recipient_id', 'payload']).where('type', '=', 'payout_processed').execute();
        expect(notes).toHaveLength(7);
        expect(notes.find((n) => n.recipient_id === failedCreator.id)!.payload).toMatchObject({ status: 'failed', reason: 'account_closed: The bank account has been closed' });

        // Each was pushed once to its creator's subject, from the webhook, the upload and finance's hand alike, after its commit.
        await until(() => pushes.length >= 7, 'seven payout_processed pushes', 30_000);
        pushSubscription.unsubscribe();
        const pushed = await Promise.all(pushes);
        const stored = await db.selectFrom('notifications').select(['id', 'recipient_id']).where('type', '=', 'payout_processed').execute();
        expect(pushed.map((p) => p.id).sort()).toEqual(stored.map((n) => n.id).sort());
        for (const push of pushed) {
          expect(push).toMatchObject({ type: 'payout_processed', storedWhenPushed: true });
          expect(push.subject).toBe(t.ctx.nats.subject(`user.${push.recipientId}.notifications`));
        }

        // A bank return after payment (b1 was paid): one compensating entry gives the creator the
        // money back, once however often it is reported, and tells them why.
        const returnReport = ['end_to_end_id,status,reason', `${compactId(b1!.id)},RETURNED,AC04 account closed after booking`].join('\n');
        const returnedUpload = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/bank-status`, { headers: approver.auth, body: { content: returnReport } });
        expect(returnedUpload.json.data).toMatchObject({ settled: 0, returned: 1, alreadySettled: 0, conflicts: [] });
        const returnedAgain = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/bank-status`, { headers: approver.auth, body: { content: returnReport } });
        expect(returnedAgain.json.data).toMatchObject({ settled: 0, returned: 0, alreadySettled: 1 });
        const returnedByHand = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${b1!.id}/settle`, { headers: starter.auth, body: { outcome: 'failed', reason: 'returned' } });
        expect(returnedByHand.json.data).toMatchObject({ result: 'already_settled', item: { status: 'returned', failureReason: 'AC04 account closed after booking' } });
        expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${b1!.id}/settle`, { headers: starter.auth, body: { outcome: 'paid' } })).status).toBe(409);
        expect(await earningsOf(db, b1!.creatorId)).toEqual({ available: shares.get(b1!.creatorId), reserved: 0n });
        const returnKeys = (await payoutEntryKeys(db)).filter((k) => k.startsWith(`payout/${runId}/${b1!.creatorId}`));
        expect(returnKeys.sort()).toEqual([`payout/${runId}/${b1!.creatorId}`, `payout/${runId}/${b1!.creatorId}/bank-returned`, `payout/${runId}/${b1!.creatorId}/paid`]);
        const returnedCreator = bank.find((c) => c.id === b1!.creatorId)!;
        expect((await call(t.app, 'GET', '/api/v1/creators/me/payouts', { headers: returnedCreator.auth })).json.data[0]).toMatchObject({ status: 'returned', failureReason: 'AC04 account closed after booking' });
        const returnNotes = await db.selectFrom('notifications').select('payload').where('recipient_id', '=', b1!.creatorId).where('type', '=', 'payout_processed').orderBy('created_at').execute();
        expect(returnNotes.map((n) => (n.payload as { status: string }).status)).toEqual(['paid', 'returned']);

        // Stripe says a paid payout failed after all: the money is in the creator's Stripe balance,
        // so nothing is booked; the item is flagged, and only then may finance record the return.
        const lateFailure = await sendStripeEvent(t.app, t.ctx.config, {
          type: 'payout.failed',
          account: paidRefs.accountId,
          object: { id: paidRefs.payoutId, object: 'payout', status: 'failed', failure_code: 'account_closed', metadata: { payoutId: paidStripe!.id, runId } },
        });
        expect(await t.ctx.temporal.client.workflow.getHandle(workflowIds.paymentEvent('stripe', lateFailure.event.id)).result()).toEqual({ outcome: 'applied', type: 'payout.failed' });
        const flaggedPaid = await db.selectFrom('payout_items').select(['status', 'flagged_at', 'stripe_failed_after_paid_at', 'failure_reason']).where('id', '=', paidStripe!.id).executeTakeFirstOrThrow();
        expect(flaggedPaid).toMatchObject({ status: 'paid', failure_reason: 'Stripe reported the payout failed after it was paid: account_closed' });
        expect(flaggedPaid.flagged_at).not.toBeNull();
        // Only Stripe's own word that it failed lets finance book a return (a late or unreversed flag does not).
        expect(flaggedPaid.stripe_failed_after_paid_at).not.toBeNull();
        expect(await earningsOf(db, paidStripe!.creatorId)).toEqual({ available: 0n, reserved: 0n });
        const recovered = await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/items/${paidStripe!.id}/settle`, { headers: starter.auth, body: { outcome: 'failed', reason: 'transfer reversed by finance' } });
        expect(recovered.json.data).toMatchObject({ result: 'returned', item: { status: 'returned' } });
        expect(await earningsOf(db, paidStripe!.creatorId)).toEqual({ available: shares.get(paidStripe!.creatorId), reserved: 0n });
        // The platform's cash got both back; the books stay whole.
        const cashAfter = await balancesOf(db, [platformAccount('platform_cash', 'USD')]);
        expect(cashAfter.get(accountCode(platformAccount('platform_cash', 'USD')))).toBe(-[b2!, b4!, b5!].reduce((s, i) => s + shares.get(i.creatorId)!, 0n));
        for (const line of await trialBalance(db)) expect(line.difference).toBe(0n);
        expect(await auditAccounts(db)).toEqual([]);
      }
    }
}
