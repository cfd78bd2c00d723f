import { sql } from 'kysely';
import type { Db, Tx } from '../db.ts';
import type { PaymentKind, PaymentStatus } from '../schema.ts';

// Payment rows as the money code sees them: amounts as bigint (the pg driver would give a
// number), found by our id or by the provider's ids that charge and dispute events carry.

export interface Payment {
  id: string;
  kind: PaymentKind;
  payerId: string;
  creatorId: string | null;
  streamId: string | null;
  videoId: string | null;
  coinPackId: string | null;
  coins: bigint | null;
  amount: bigint;
  currency: string;
  message: string | null;
  anonymous: boolean;
  status: PaymentStatus;
  providerPaymentIntentId: string | null;
  providerClientSecret: string | null;
  providerChargeId: string | null;
  idempotencyKey: string;
  requestFingerprint: string;
  failureReason: string | null;
  bookingRefused: boolean;
  succeededEntryId: string | null;
  bookedShare: bigint | null;
  bookedCoinValue: bigint | null;
  refundedAmount: bigint;
  reversedAmount: bigint;
  reversedShare: bigint;
  createdAt: Date;
  updatedAt: Date;
  succeededAt: Date | null;
}

const selectPayments = (executor: Db | Tx) =>
  executor
    .selectFrom('payments')
    .select([
      'id',
      'kind',
      'payer_id',
      'creator_id',
      'stream_id',
      'video_id',
      'coin_pack_id',
      sql<string | null>`coins::text`.as('coins'),
      sql<string>`amount::text`.as('amount'),
      'currency',
      'message',
      'anonymous',
      'status',
      'provider_payment_intent_id',
      'provider_client_secret',
      'provider_charge_id',
      'idempotency_key',
      'request_fingerprint',
      'failure_reason',
      'booking_refused',
      'succeeded_entry_id',
      sql<string | null>`booked_share::text`.as('booked_share'),
      sql<string | null>`booked_coin_value::text`.as('booked_coin_value'),
      sql<string>`refunded_amount::text`.as('refunded_amount'),
      sql<string>`reversed_amount::text`.as('reversed_amount'),
      sql<string>`reversed_share::text`.as('reversed_share'),
      'created_at',
      'updated_at',
      'succeeded_at',
    ]);

type PaymentRow = Awaited<ReturnType<ReturnType<typeof selectPayments>['executeTakeFirstOrThrow']>>;

const big = (value: string | null) => (value === null ? null : BigInt(value));

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    kind: row.kind,
    payerId: row.payer_id,
    creatorId: row.creator_id,
    streamId: row.stream_id,
    videoId: row.video_id,
    coinPackId: row.coin_pack_id,
    coins: big(row.coins),
    amount: BigInt(row.amount),
    currency: row.currency,
    message: row.message,
    anonymous: row.anonymous,
    status: row.status,
    providerPaymentIntentId: row.provider_payment_intent_id,
    providerClientSecret: row.provider_client_secret,
    providerChargeId: row.provider_charge_id,
    idempotencyKey: row.idempotency_key,
    requestFingerprint: row.request_fingerprint,
    failureReason: row.failure_reason,
    bookingRefused: row.booking_refused,
    succeededEntryId: row.succeeded_entry_id,
    bookedShare: big(row.booked_share),
    bookedCoinValue: big(row.booked_coin_value),
    refundedAmount: BigInt(row.refunded_amount),
    reversedAmount: BigInt(row.reversed_amount),
    reversedShare: BigInt(row.reversed_share),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    succeededAt: row.succeeded_at,
  };
}

export async function findPayment(executor: Db | Tx, id: string): Promise<Payment | undefined> {
  const row = await selectPayments(executor).where('id', '=', id).executeTakeFirst();
  return row && toPayment(row);
}

/** A payer's payment by the idempotency key of the request that created it. */
export async function findPaymentByKey(executor: Db | Tx, payerId: string, idempotencyKey: string): Promise<Payment | undefined> {
  const row = await selectPayments(executor).where('payer_id', '=', payerId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
  return row && toPayment(row);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type PaymentLookup = { found: Payment } | { ambiguous: number } | { missing: true };

/**
 * The payment an event is about, locked for the event's transaction: by our id in the
 * metadata (PaymentIntents, and the charges Stripe copies it onto), else by the charge id we
 * stored, else by the PaymentIntent id. Provider ids are trusted only when exactly one
 * payment has them (stripe-mock gives every PaymentIntent the same id).
 */
export async function lockPaymentForEvent(trx: Tx, ids: { paymentId?: string; chargeId?: string | null; paymentIntentId?: string | null }): Promise<PaymentLookup> {
  if (ids.paymentId && UUID.test(ids.paymentId)) {
    const row = await selectPayments(trx).where('id', '=', ids.paymentId).forUpdate().executeTakeFirst();
    if (row) return { found: toPayment(row) };
  }
  for (const [column, value] of [
    ['provider_charge_id', ids.chargeId],
    ['provider_payment_intent_id', ids.paymentIntentId],
  ] as const) {
    if (!value) continue;
    const rows = await selectPayments(trx).where(column, '=', value).orderBy('id').limit(2).forUpdate().execute();
    if (rows.length === 1) return { found: toPayment(rows[0]!) };
    if (rows.length > 1) return { ambiguous: rows.length };
  }
  return { missing: true };
}

/**
 * Locks the provider's ids an event names (transaction-scoped advisory locks, in a fixed
 * order), before its payment is looked up: an event that finds no payment and parks, and one
 * that stores those ids on the payment and applies what waits for them, take the same locks,
 * so the second always sees the first.
 */
export async function lockProviderIds(trx: Tx, ids: { chargeId?: string | null; paymentIntentId?: string | null }): Promise<void> {
  const keys = [ids.chargeId ? `stripe/charge/${ids.chargeId}` : null, ids.paymentIntentId ? `stripe/payment_intent/${ids.paymentIntentId}` : null]
    .filter((key): key is string => key !== null)
    .sort();
  for (const key of keys) await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}
