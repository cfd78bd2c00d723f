import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { PaymentEvent, PaymentEventHandler } from '../../activities/payments.ts';
import type { AuthContext } from '../../api/context.ts';
import { startCoinPurchase, startTip } from '../../api/payments/service.ts';
import { AppError } from '../../lib/errors.ts';
import { accountCode, balancesOf, postEntry, userAccount } from '../../lib/ledger/index.ts';
import { matureCreatorEarnings } from '../../lib/money/maturation.ts';
import { giftLines } from '../../lib/money/rules.ts';
import { buildStripeEvent } from '../../lib/payments/stripe-events.ts';
import type { PaymentKind } from '../../lib/schema.ts';
import { useTestContext } from '../support/context.ts';
import { expectWholeBooks } from '../support/ledger-books.ts';
import { insertBulkUsers } from '../support/fixtures.ts';
import { insertStream } from '../support/gateway.ts';
import { capturingLogger, moneyRules, paymentHandlers, stripeObjects } from '../support/payments.ts';

// Random histories of money in, run straight through the real event handlers (each in its own
// transaction, as the webhook's workflow runs them) against the real database: purchases,
// tips, gifts, refunds, disputes, failures, maturation, and any step delivered again. After
// every step the books are whole; a step delivered again changes nothing.

const t = useTestContext();
const handlers = paymentHandlers(capturingLogger().logger);

/** Runs a handler as the payment-event activity does: one transaction, after-commit tasks after it. */
async function apply(type: string, object: Record<string, unknown>): Promise<void> {
  const envelope = buildStripeEvent({ type, object, createdSeconds: Math.floor(Date.now() / 1000) });
  const metadata = (envelope.data.object.metadata ?? {}) as Record<string, unknown>;
  const event: PaymentEvent = {
    provider: 'stripe',
    id: envelope.id,
    type,
    livemode: false,
    createdAt: new Date(),
    receivedAt: new Date(),
    object: envelope.data.object,
    metadata: Object.fromEntries(Object.entries(metadata).filter((e): e is [string, string] => typeof e[1] === 'string')),
    payload: envelope,
  };
  const later: (() => Promise<void>)[] = [];
  const handler = handlers.get(type as never) as PaymentEventHandler;
  await t.ctx.db.transaction().execute((trx) => handler({ trx, nats: t.ctx.nats, temporal: t.ctx.temporal, afterCommit: (task) => void later.push(task), applyWaiting: async () => {} }, event));
  for (const task of later) await task();
}

/** Everything a duplicate delivery could change. */
async function snapshot() {
  const { rows } = await sql<{ entries: string; postings: string; payments: string; disputes: string }>`
    select (select count(*) from ledger_entries)::text as entries,
           (select count(*) from ledger_postings)::text as postings,
           (select coalesce(md5(string_agg(p::text, ',' order by id)), '') from payments p) as payments,
           (select coalesce(md5(string_agg(d::text, ',' order by payment_id, provider_dispute_id)), '') from payment_disputes d) as disputes`.execute(t.ctx.db);
  return rows[0];
}

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('purchase' as const), payer: fc.nat(2), pack: fc.constantFrom('coins-100', 'coins-500', 'coins-1000') }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('tip' as const), payer: fc.nat(2), creator: fc.nat(1), amount: fc.integer({ min: 100, max: 50_000 }) }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('succeed' as const), payment: fc.nat(20), wrongAmount: fc.nat(9).map((n) => n === 0) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('fail' as const), payment: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('gift' as const), payer: fc.nat(2), creator: fc.nat(1), coins: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('refund' as const), payment: fc.nat(20), fraction: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('dispute' as const), payment: fc.nat(20), which: fc.nat(3), withdrawn: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('close' as const), payment: fc.nat(20), which: fc.nat(3), won: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('mature' as const), creator: fc.nat(1) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('again' as const), back: fc.nat(30) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

describe('money-in properties (fast-check, real handlers, Postgres)', { timeout: 600_000 }, () => {
  it('keeps the books whole through any history of payments, gifts, refunds, disputes and maturation, and a step delivered again changes nothing', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40, size: 'max' }), async (ops: Op[]) => {
        run++;
        const [payerIds, creatorIds] = [await insertBulkUsers(t.ctx.db, 3), await insertBulkUsers(t.ctx.db, 2)];
        const payers = payerIds.map((userId) => ({ userId, role: 'viewer' }) as AuthContext);
        const streams = await Promise.all(creatorIds.map((id) => insertStream(t.ctx, id, 'live')));
        const packs = new Map((await t.ctx.db.selectFrom('coin_packs').select(['id', 'slug']).execute()).map((p) => [p.slug, p.id]));
        const payments: { id: string; kind: PaymentKind; amount: number }[] = [];
        /** Steps that did something, as they can be delivered again. */
        const done: (() => Promise<unknown>)[] = [];
        const step = async (action: () => Promise<unknown>) => {
          await action();
          done.push(action);
        };

        for (const [i, o] of ops.entries()) {
          const payment = 'payment' in o ? payments[o.payment % Math.max(payments.length, 1)] : undefined;
          const paid = payment && { ...payment, paymentIntentId: `pi_prop_${payment.id.slice(0, 8)}` };
          switch (o.type) {
            case 'purchase': {
              const { payment: p } = await startCoinPurchase(t.ctx.db, moneyRules, { payerId: payerIds[o.payer]!, idempotencyKey: `prop-${run}-${i}`, coinPackId: packs.get(o.pack)! });
              payments.push({ id: p.id, kind: p.kind, amount: Number(p.amount) });
              break;
            }
            case 'tip': {
              const creator = o.creator % creatorIds.length;
              const { payment: p } = await startTip(t.ctx.db, {
                payer: payers[o.payer]!,
                idempotencyKey: `prop-${run}-${i}`,
                target: { streamId: streams[creator]! },
                amount: BigInt(o.amount),
                currency: 'USD',
                message: null,
                anonymous: false,
              });
              payments.push({ id: p.id, kind: p.kind, amount: Number(p.amount) });
              break;
            }
            case 'succeed':
              if (paid) await step(() => apply('payment_intent.succeeded', stripeObjects.succeeded(paid, o.wrongAmount ? { amount: paid.amount + 1 } : {})));
              break;
            case 'fail':
              if (paid) await step(() => apply('payment_intent.payment_failed', stripeObjects.failed(paid)));
              break;
            case 'gift': {
              const key = `prop-gift/${run}/${i}`;
              const lines = giftLines(payerIds[o.payer]!, creatorIds[o.creator % creatorIds.length]!, BigInt(o.coins), moneyRules);
              const gift = () => postEntry(t.ctx.db, { idempotencyKey: key, kind: 'gift', lines });
              const sent = await gift().then(
                () => true,
                (err: unknown) => {
                  if (err instanceof AppError && err.code === 'insufficient_funds') return false;
                  throw err;
                },
              );
              if (sent) done.push(gift);
              break;
            }
            case 'refund':
              if (paid) await step(() => apply('charge.refunded', stripeObjects.refunded(paid, Math.max(1, Math.floor((paid.amount * o.fraction) / 100)))));
              break;
            case 'dispute':
            case 'close': {
              if (!paid) break;
              // Each dispute has one amount and kind: a full chargeback, a partial one, an inquiry, or
              // an inquiry that escalates (its withdrawal is news of the chargeback, its close won or lost).
              const amount = o.which === 1 ? Math.max(1, Math.floor(paid.amount / 2)) : paid.amount;
              const withdrawn = o.type === 'dispute' && o.withdrawn && o.which !== 2;
              const inquiry = o.which === 2 || (o.which === 3 && !withdrawn);
              const status = o.type === 'dispute' ? (inquiry ? 'warning_needs_response' : 'needs_response') : o.which === 2 ? 'warning_closed' : o.won ? 'won' : 'lost';
              // Stripe leaves a dispute's metadata empty; ours names the payment so one can come before its charge is known.
              const object = { ...stripeObjects.dispute(paid, { id: `dp_${paid.id.slice(0, 8)}_${o.which}`, amount, status }), metadata: { paymentId: paid.id } };
              await step(() => apply(o.type === 'close' ? 'charge.dispute.closed' : withdrawn ? 'charge.dispute.funds_withdrawn' : 'charge.dispute.created', object));
              break;
            }
            case 'mature': {
              const cutoff = new Date();
              await step(() => matureCreatorEarnings(t.ctx.db, { creatorId: creatorIds[o.creator]!, currency: 'USD', cutoff }));
              break;
            }
            case 'again': {
              const earlier = done[done.length - 1 - (o.back % Math.max(done.length, 1))];
              if (!earlier) break;
              const before = await snapshot();
              await earlier();
              expect(await snapshot()).toEqual(before);
              break;
            }
          }
          await expectWholeBooks(t.ctx.db);
        }

        // What the payment rows say the creators keep matches their earnings in the ledger.
        const kept = await sql<{ creator_id: string; kept: string }>`
          select creator_id, sum(booked_share - reversed_share)::text as kept from payments
          where creator_id = any(${creatorIds}::uuid[]) and succeeded_entry_id is not null group by creator_id`.execute(t.ctx.db);
        for (const creatorId of creatorIds) {
          const refs = (['earnings_pending', 'earnings_available'] as const).map((kind) => userAccount(kind, creatorId, 'USD'));
          const balances = await balancesOf(t.ctx.db, refs);
          const earned = refs.reduce((sum, ref) => sum + balances.get(accountCode(ref))!, 0n);
          const fromTips = BigInt(kept.rows.find((r) => r.creator_id === creatorId)?.kept ?? '0');
          const fromGifts = await giftValue(creatorId);
          expect(earned).toBe(fromTips + fromGifts);
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** What gifts earned a creator (their pending credits from gift entries). */
async function giftValue(creatorId: string): Promise<bigint> {
  const { rows } = await sql<{ value: string }>`
    select coalesce(sum(p.amount), 0)::text as value
    from ledger_postings p join ledger_entries e on e.id = p.entry_id join ledger_accounts a on a.id = p.account_id
    where e.kind = 'gift' and a.code = ${accountCode(userAccount('earnings_pending', creatorId, 'USD'))}`.execute(t.ctx.db);
  return BigInt(rows[0]!.value);
}
