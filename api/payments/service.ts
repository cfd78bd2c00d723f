import { createHash, randomUUID } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import { findPayment, findPaymentByKey, type Payment } from '../../lib/money/payments.ts';
import type { MoneyRules } from '../../lib/money/rules.ts';
import type { PaymentKind, PaymentsTable } from '../../lib/schema.ts';
import { PaymentProviderError, paymentErrorToAppError, stripeIdempotencyKey, type PaymentGateway } from '../../lib/stripe.ts';
import { restrictedFromRoom } from '../../lib/moderation/channel.ts';
import { restrictionOf } from '../../lib/moderation/channel-store.ts';
import type { AuthContext } from '../context.ts';
import { canView, findVideo } from '../videos/service.ts';

// Starting a payment: a `payments` row claims the payer's idempotency key first, then the
// provider is asked for a PaymentIntent under a key made from the row's id, so every retry of
// the request (or of the call to the provider) ends at the same row and the same intent.

export type TipTarget = { streamId: string } | { videoId: string };

export interface TipRequest {
  payer: AuthContext;
  idempotencyKey: string;
  target: TipTarget;
  amount: bigint;
  currency: string;
  message: string | null;
  anonymous: boolean;
}

export interface StartedPayment {
  payment: Payment;
  /** False when the key had been used before for the same request: nothing new was made. */
  created: boolean;
}

/** What makes two requests under one Idempotency-Key the same request. */
export function fingerprint(kind: PaymentKind, fields: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify([kind, ...fields], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex');
}

/** The payment an earlier request with this key made; another request under the key is refused. */
export async function replayOf(db: Db, payerId: string, idempotencyKey: string, digest: string): Promise<Payment | undefined> {
  const earlier = await findPaymentByKey(db, payerId, idempotencyKey);
  if (earlier && earlier.requestFingerprint !== digest) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used for a different payment; use a new key for a new payment');
  }
  return earlier;
}

/** Inserts the row unless the key is taken (by a concurrent request): then that request's row. */
async function claim(db: Db, values: Insertable<PaymentsTable>): Promise<StartedPayment> {
  const inserted = await db
    .insertInto('payments')
    .values(values)
    .onConflict((oc) => oc.columns(['payer_id', 'idempotency_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { payment: (await findPayment(db, inserted.id))!, created: true };
  const earlier = await replayOf(db, values.payer_id, values.idempotency_key, values.request_fingerprint);
  if (!earlier) throw new Error(`payment of key ${values.idempotency_key} vanished after its key was taken`);
  return { payment: earlier, created: false };
}

/** Who is tipped for this stream or video: refused when it is not there to see, or is the payer's own. */
async function tippedCreator(db: Db, payer: AuthContext, target: TipTarget): Promise<string> {
  let ownerId: string;
  if ('streamId' in target) {
    const stream = await db.selectFrom('streams').select(['owner_id', 'status']).where('id', '=', target.streamId).executeTakeFirst();
    if (!stream || stream.status === 'cancelled') throw new AppError('not_found', 'No such stream', [{ field: 'streamId', message: 'unknown or cancelled stream' }]);
    ownerId = stream.owner_id;
    // A tip to a video reaches no room, so a chat restriction does not stand in its way.
    const restriction = await restrictionOf(db, ownerId, payer.userId);
    if (restriction) throw restrictedFromRoom(restriction, 'tips');
  } else {
    const video = await findVideo(db, target.videoId);
    if (!video || !canView(payer, video)) throw new AppError('not_found', 'No such video', [{ field: 'videoId', message: 'unknown video, or not yours to see' }]);
    ownerId = video.owner_id;
  }
  if (ownerId === payer.userId) throw new AppError('forbidden', 'You cannot tip yourself');
  const owner = await db.selectFrom('users').select(['status', 'deleted_at']).where('id', '=', ownerId).executeTakeFirstOrThrow();
  if (owner.deleted_at || owner.status === 'banned') throw new AppError('conflict', 'This creator cannot receive tips');
  return ownerId;
}

export async function startTip(db: Db, request: TipRequest): Promise<StartedPayment> {
  const streamId = 'streamId' in request.target ? request.target.streamId : null;
  const videoId = 'videoId' in request.target ? request.target.videoId : null;
  const digest = fingerprint('tip', [streamId, videoId, request.amount, request.currency, request.message, request.anonymous]);
  const earlier = await replayOf(db, request.payer.userId, request.idempotencyKey, digest);
  if (earlier) return { payment: earlier, created: false };
  const creatorId = await tippedCreator(db, request.payer, request.target);
  return claim(db, {
    id: randomUUID(),
    kind: 'tip',
    payer_id: request.payer.userId,
    creator_id: creatorId,
    stream_id: streamId,
    video_id: videoId,
    amount: request.amount.toString(),
    currency: request.currency,
    message: request.message,
    anonymous: request.anonymous,
    idempotency_key: request.idempotencyKey,
    request_fingerprint: digest,
  });
}

export interface CoinPack {
  id: string;
  slug: string;
  coins: bigint;
  price: bigint;
  currency: string;
}

/**
 * Packs on sale: active, in the settlement currency, and priced at least at their coins'
 * creator value (a pack below it would owe creators more than it brings in).
 */
export async function coinPacksOnSale(db: Db, rules: MoneyRules, id?: string): Promise<CoinPack[]> {
  let query = db
    .selectFrom('coin_packs')
    .select(['id', 'slug', sql<string>`coins::text`.as('coins'), sql<string>`price_minor::text`.as('price'), 'currency'])
    .where('active', '=', true)
    .where('currency', '=', rules.currency)
    .where(sql<boolean>`price_minor >= coins * ${rules.coinCreatorValue.toString()}::bigint`);
  if (id !== undefined) query = query.where('id', '=', id);
  const rows = await query.orderBy('sort').orderBy('coins').execute();
  return rows.map((r) => ({ id: r.id, slug: r.slug, coins: BigInt(r.coins), price: BigInt(r.price), currency: r.currency }));
}

export async function startCoinPurchase(db: Db, rules: MoneyRules, request: { payerId: string; idempotencyKey: string; coinPackId: string }): Promise<StartedPayment> {
  const digest = fingerprint('coin_purchase', [request.coinPackId]);
  const earlier = await replayOf(db, request.payerId, request.idempotencyKey, digest);
  if (earlier) return { payment: earlier, created: false };
  const [pack] = await coinPacksOnSale(db, rules, request.coinPackId);
  if (!pack) throw new AppError('not_found', 'No such coin pack on sale', [{ field: 'coinPackId', message: 'unknown or retired pack' }]);
  return claim(db, {
    id: randomUUID(),
    kind: 'coin_purchase',
    payer_id: request.payerId,
    coin_pack_id: pack.id,
    coins: pack.coins.toString(),
    amount: pack.price.toString(),
    currency: pack.currency,
    idempotency_key: request.idempotencyKey,
    request_fingerprint: digest,
  });
}

/**
 * How long after the first request for a payment's PaymentIntent we still ask Stripe again
 * under the same idempotency key. Stripe keeps a key for 24 hours; the hour less leaves room
 * for clocks and slow requests.
 */
export const PAYMENT_INTENT_KEY_WINDOW_MS = 23 * 3600_000;

/**
 * The client secret the payer confirms the payment with: the one stored, or a new
 * PaymentIntent created under the payment's own key (a retry after a lost answer gets the same
 * intent from the provider) and stored. Null once the payment is past taking money.
 *
 * The first request's time is stored before Stripe is asked. A payment whose PaymentIntent may
 * exist at Stripe without us knowing it (asked for, answer lost) is never asked for again once
 * Stripe may have forgotten the key: a second PaymentIntent could charge the payer twice for one
 * purchase. It fails instead (`payment_expired`); the payer starts a new payment.
 */
export async function clientSecretFor(db: Db, gateway: PaymentGateway, payment: Payment, now = new Date()): Promise<string | null> {
  if (payment.providerClientSecret) return payment.providerClientSecret;
  if (payment.status !== 'requires_payment') return null;
  const requested = await db
    .updateTable('payments')
    .set({ intent_requested_at: sql<Date>`coalesce(intent_requested_at, ${now}::timestamptz)` })
    .where('id', '=', payment.id)
    .returning(['intent_requested_at', 'provider_client_secret'])
    .executeTakeFirstOrThrow();
  if (requested.provider_client_secret) return requested.provider_client_secret;
  if (now.getTime() - requested.intent_requested_at!.getTime() > PAYMENT_INTENT_KEY_WINDOW_MS) {
    const reason = 'expired: its PaymentIntent was asked for more than 23 hours ago and never stored; start a new payment';
    await db
      .updateTable('payments')
      .set({ status: 'failed', failure_reason: reason, updated_at: sql`now()` })
      .where('id', '=', payment.id)
      .where('status', '=', 'requires_payment')
      .where('provider_client_secret', 'is', null)
      .execute();
    throw new AppError('payment_expired', 'This payment can no longer be paid; start a new payment with a new Idempotency-Key');
  }
  const intent = await gateway
    .createPaymentIntent({
      amount: payment.amount,
      currency: payment.currency,
      idempotencyKey: stripeIdempotencyKey('payment', payment.id),
      metadata: { paymentId: payment.id, kind: payment.kind },
      description: payment.kind === 'tip' ? 'StreamHub tip' : payment.kind === 'subscription_gift' ? 'StreamHub gift subscriptions' : `StreamHub coins (${payment.coins} coins)`,
    })
    .catch((err: unknown) => {
      throw err instanceof PaymentProviderError ? paymentErrorToAppError(err) : err;
    });
  await db
    .updateTable('payments')
    .set({ provider_payment_intent_id: intent.id, provider_client_secret: intent.clientSecret })
    .where('id', '=', payment.id)
    .where('provider_client_secret', 'is', null)
    .execute();
  return (await findPayment(db, payment.id))?.providerClientSecret ?? intent.clientSecret;
}

/** A payment for its payer, finance and admins; 404 for anyone else (it does not reveal that it exists). */
export async function findOwnPayment(db: Db, id: string, auth: AuthContext): Promise<Payment> {
  const payment = await findPayment(db, id);
  if (!payment || (payment.payerId !== auth.userId && auth.role !== 'admin' && auth.role !== 'finance')) throw new AppError('not_found', 'No such payment');
  return payment;
}

export function paymentView(p: Payment) {
  return {
    id: p.id,
    kind: p.kind,
    status: p.status,
    amount: toJsonAmount(p.amount),
    currency: p.currency,
    payerId: p.payerId,
    creatorId: p.creatorId,
    streamId: p.streamId,
    videoId: p.videoId,
    coinPackId: p.coinPackId,
    coins: p.coins === null ? null : toJsonAmount(p.coins),
    message: p.message,
    anonymous: p.anonymous,
    refundedAmount: toJsonAmount(p.refundedAmount),
    failureReason: p.failureReason,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    succeededAt: p.succeededAt?.toISOString() ?? null,
  };
}
