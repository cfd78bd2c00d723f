import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { toJsonAmount } from '../../lib/ledger/rules.ts';
import { ibanProblem, maskIban, normalizeIban } from '../../lib/payouts/iban.ts';
import type { PayoutServices } from '../../lib/payouts/services.ts';
import { payoutItemStatuses } from '../../lib/schema.ts';
import { PaymentProviderError, paymentErrorToAppError, stripeIdempotencyKey } from '../../lib/stripe.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, timeKeyCursorSchema, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';

// A creator's own payout method and payouts. The IBAN is sealed at rest and never sent back:
// only its mask (country and last four characters) is shown.

const methodSchema = z
  .object({
    kind: z.enum(['stripe', 'bank_transfer']),
    status: z.enum(['pending', 'verified', 'disabled']).openapi({ description: 'Only verified methods are paid; Stripe becomes verified when onboarding is done' }),
    accountHolder: z.string().nullable(),
    ibanMasked: z.string().nullable(),
    stripeAccountId: z.string().nullable(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('PayoutMethod');

const payoutSchema = z
  .object({
    id: z.uuid(),
    runId: z.uuid(),
    amount: z.number().int().openapi({ description: 'Integer minor units' }),
    currency: z.string(),
    method: z.enum(['stripe', 'bank_transfer']),
    status: z.enum(payoutItemStatuses),
    failureReason: z.string().nullable().openapi({ description: 'Why it failed or was returned by the bank (its money is available again)' }),
    createdAt: z.iso.datetime(),
    settledAt: z.iso.datetime().nullable(),
  })
  .openapi('Payout');

const putBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bank_transfer'), accountHolder: z.string().trim().min(2).max(70), iban: z.string().min(5).max(50) }).strict(),
  z.object({ kind: z.literal('stripe') }).strict(),
]);

export function creatorPayoutRoutes(deps: { db: Db; payouts: PayoutServices; publicApiUrl: string }) {
  const { db, payouts } = deps;
  const router = createRouter();

  const methodOf = async (userId: string) => {
    const m = await db.selectFrom('payout_methods').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return m ? { kind: m.kind, status: m.status, accountHolder: m.account_holder, ibanMasked: m.iban_masked, stripeAccountId: m.stripe_account_id, updatedAt: m.updated_at.toISOString() } : null;
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/payout-method',
      tags: ['payouts'],
      summary: 'Your payout method (null when you have none)',
      ...signedIn,
      responses: { 200: enveloped(z.object({ method: methodSchema.nullable() }), 'Your method'), ...errorResponses({ 401: 'Not signed in' }) },
    }),
    async (c) => c.json(ok({ method: await methodOf(currentUser(c).userId) }), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/me/payout-method',
      tags: ['payouts'],
      summary: 'Set your payout method: a bank account (name + IBAN), or Stripe Connect (answers an onboarding link)',
      description: 'A bank account is verified by its IBAN checksum at once. Stripe starts `pending`; it becomes verified when Stripe reports the account can receive payouts. Payouts already reserved keep the method they were reserved with.',
      security: [{ bearerAuth: [] }],
      middleware: [
        ...signedIn.middleware,
        rateLimit(db, { name: 'payout-method', limit: 10, windowSeconds: 3600, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: { body: jsonBody(putBody) },
      responses: {
        200: enveloped(z.object({ method: methodSchema, onboardingUrl: z.url().nullable().openapi({ description: 'Stripe only: where to finish onboarding (expires in minutes)' }) }), 'Saved'),
        ...errorResponses({ 400: 'Invalid body or IBAN', 401: 'Not signed in', 429: 'Too many changes', 503: 'Stripe is unavailable or not configured' }),
      },
    }),
    async (c) => {
      const auth = currentUser(c);
      const body = c.req.valid('json');
      if (body.kind === 'bank_transfer') {
        const iban = normalizeIban(body.iban);
        const problem = ibanProblem(iban);
        if (problem) throw new AppError('validation_failed', 'Invalid IBAN', [{ field: 'iban', message: `invalid ${problem}` }]);
        const row = { kind: 'bank_transfer' as const, status: 'verified' as const, account_holder: body.accountHolder, iban_sealed: payouts.box.seal(iban), iban_masked: maskIban(iban), stripe_account_id: null };
        await db
          .insertInto('payout_methods')
          .values({ user_id: auth.userId, ...row })
          .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...row, updated_at: sql<Date>`now()` }))
          .execute();
        return c.json(ok({ method: (await methodOf(auth.userId))!, onboardingUrl: null }), 200);
      }
      const existing = await db.selectFrom('payout_methods').select(['stripe_account_id']).where('user_id', '=', auth.userId).executeTakeFirst();
      try {
        let accountId = existing?.stripe_account_id;
        if (!accountId) {
          const user = await db.selectFrom('users').select('email').where('id', '=', auth.userId).executeTakeFirstOrThrow();
          ({ id: accountId } = await payouts.connect.createConnectedAccount({ userId: auth.userId, email: user.email, idempotencyKey: stripeIdempotencyKey('payout-method', auth.userId, 'account') }));
        }
        const row = { kind: 'stripe' as const, status: 'pending' as const, stripe_account_id: accountId, account_holder: null, iban_sealed: null, iban_masked: null };
        await db
          .insertInto('payout_methods')
          .values({ user_id: auth.userId, ...row })
          .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...row, updated_at: sql<Date>`now()` }))
          .execute();
        const back = `${deps.publicApiUrl}/settings/payouts`;
        const link = await payouts.connect.createAccountLink({ accountId, refreshUrl: `${back}?stripe=refresh`, returnUrl: `${back}?stripe=return` });
        return c.json(ok({ method: (await methodOf(auth.userId))!, onboardingUrl: link.url }), 200);
      } catch (err) {
        if (err instanceof PaymentProviderError) throw paymentErrorToAppError(err);
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/payouts',
      tags: ['payouts'],
      summary: 'Your payouts, newest first: each one’s status and, when it failed, why',
      ...signedIn,
      request: { query: pageQuerySchema },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(payoutSchema) } } }, ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in' }) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const before = decodeCursor(cursor, timeKeyCursorSchema);
      let query = db
        .selectFrom('payout_items')
        .select(['id', 'run_id', 'currency', 'method', 'status', 'failure_reason', 'created_at', 'settled_at', sql<string>`amount::text`.as('amount_text'), sql<string>`created_at::text`.as('created_key')])
        .where('user_id', '=', currentUser(c).userId);
      if (before) query = query.where(sql<boolean>`(created_at, id) < (${before.at}::timestamptz, ${before.id}::uuid)`);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      return c.json(
        page(
          rows,
          limit,
          (r) => ({
            id: r.id,
            runId: r.run_id,
            amount: toJsonAmount(BigInt(r.amount_text)),
            currency: r.currency,
            method: r.method,
            status: r.status,
            failureReason: r.failure_reason,
            createdAt: r.created_at.toISOString(),
            settledAt: r.settled_at?.toISOString() ?? null,
          }),
          (r) => ({ at: r.created_key, id: r.id }),
        ),
        200,
      );
    },
  );

  return router;
}
