import Stripe from 'stripe';
import type { StripeConfig } from './config.ts';
import { AppError } from './errors.ts';

// The one module that talks to Stripe's API (the official client). Callers get StreamHub's
// types: amounts as bigint minor units, currencies as upper-case ISO 4217 codes.
//
// Provider ids are not ours: stripe-mock answers every call with the same fixture ids, and
// even Stripe's are only unique per account. Put our own ids in `metadata` and find our
// records by them (webhook handlers read `data.object.metadata`).

export interface CreatePaymentIntentInput {
  /** Minor units of `currency` (cents for USD), > 0. */
  amount: bigint;
  /** ISO 4217, either case. */
  currency: string;
  /** Derived from our own ids (see `stripeIdempotencyKey`), so a retried request creates nothing new. */
  idempotencyKey: string;
  /** Our ids and what the payment is for; Stripe copies it onto the charge. */
  metadata: Record<string, string>;
  description?: string;
}

export interface PaymentIntentRef {
  id: string;
  /** For the client (Stripe.js) to confirm the payment; never log it. */
  clientSecret: string;
}

export interface PaymentIntentView {
  id: string;
  status: string;
  amount: bigint;
  amountReceived: bigint;
  currency: string;
  metadata: Record<string, string>;
  latestChargeId: string | null;
}

export interface PaymentGateway {
  createPaymentIntent(input: CreatePaymentIntentInput): Promise<PaymentIntentRef>;
  retrievePaymentIntent(id: string): Promise<PaymentIntentView>;
}

export type PaymentFailureKind = 'not_configured' | 'unavailable' | 'rate_limited' | 'card' | 'invalid_request' | 'idempotency' | 'authentication';

/** A failed call to the provider; `retryable` says whether the same call may succeed later. */
export class PaymentProviderError extends Error {
  readonly kind: PaymentFailureKind;
  readonly retryable: boolean;
  readonly providerCode?: string;

  constructor(kind: PaymentFailureKind, message: string, retryable: boolean, providerCode?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PaymentProviderError';
    this.kind = kind;
    this.retryable = retryable;
    this.providerCode = providerCode;
  }
}

/** The API's answer for a provider failure; the provider's own message stays in the log. */
export function paymentErrorToAppError(err: PaymentProviderError): AppError {
  switch (err.kind) {
    case 'card':
    case 'invalid_request':
      return new AppError('bad_request', 'The payment provider refused the request', { providerCode: err.providerCode }, { cause: err });
    case 'idempotency':
      return new AppError('conflict', 'A different request with the same idempotency key was already made', undefined, { cause: err });
    case 'rate_limited':
    case 'unavailable':
    case 'authentication':
      return new AppError('unavailable', 'The payment provider is unavailable; try again shortly', undefined, { cause: err });
    case 'not_configured':
      return new AppError('unavailable', 'Payments are not configured on this server', undefined, { cause: err });
  }
}

/**
 * An idempotency key from our own ids: the same (purpose, id, step) always yields the same
 * key, so every retry of one business step is one request to Stripe. Stripe keeps keys for
 * 24 hours and allows 255 characters.
 */
export function stripeIdempotencyKey(purpose: string, id: string, step = 'create'): string {
  const key = `streamhub/${purpose}/${id}/${step}`;
  if (key.length > 255) throw new Error(`idempotency key longer than 255 characters: ${key.slice(0, 60)}…`);
  return key;
}

const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

function toProviderError(err: unknown): PaymentProviderError {
  if (err instanceof PaymentProviderError) return err;
  if (!(err instanceof Stripe.errors.StripeError)) {
    return new PaymentProviderError('unavailable', err instanceof Error ? err.message : String(err), true, undefined, { cause: err });
  }
  const code = err.code;
  const options = { cause: err };
  if (err instanceof Stripe.errors.StripeCardError) return new PaymentProviderError('card', err.message, false, code, options);
  // A request with this key still in flight elsewhere (409 idempotency_key_in_use, e.g. a slow
  // attempt beside its retry): asking again later answers with its outcome. A key reused with
  // other parameters is a bug and stays refused.
  if (err instanceof Stripe.errors.StripeIdempotencyError) return new PaymentProviderError('idempotency', err.message, code === 'idempotency_key_in_use' || err.statusCode === 409, code, options);
  if (err instanceof Stripe.errors.StripeRateLimitError) return new PaymentProviderError('rate_limited', err.message, true, code, options);
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    return new PaymentProviderError('authentication', err.message, false, code, options);
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) return new PaymentProviderError('invalid_request', err.message, false, code, options);
  // Connection errors and Stripe's own 5xx: the same request (same idempotency key) may succeed later.
  return new PaymentProviderError('unavailable', err.message, true, code, options);
}

function stripeClient(config: StripeConfig): Stripe {
  const base = config.apiBaseUrl ? new URL(config.apiBaseUrl) : undefined;
  const protocol = base?.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.secretKey, {
    // Retried with the same idempotency key, by the client itself.
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'StreamHub' },
    ...(base ? { host: base.hostname, port: base.port || (protocol === 'http' ? 80 : 443), protocol } : {}),
  });
}

function fromPaymentIntent(intent: Stripe.PaymentIntent): PaymentIntentView {
  return {
    id: intent.id,
    status: intent.status,
    amount: BigInt(intent.amount),
    amountReceived: BigInt(intent.amount_received ?? 0),
    currency: intent.currency.toUpperCase(),
    metadata: { ...intent.metadata },
    latestChargeId: typeof intent.latest_charge === 'string' ? intent.latest_charge : (intent.latest_charge?.id ?? null),
  };
}

/** Every call fails with `not_configured` (503 in the API) when payments are off. */
const notConfigured: PaymentGateway = {
  createPaymentIntent: () => Promise.reject(new PaymentProviderError('not_configured', 'Stripe is not configured (STRIPE_SECRET_KEY)', false)),
  retrievePaymentIntent: () => Promise.reject(new PaymentProviderError('not_configured', 'Stripe is not configured (STRIPE_SECRET_KEY)', false)),
};

export function createStripeGateway(config: StripeConfig | undefined): PaymentGateway {
  if (!config) return notConfigured;
  const stripe = stripeClient(config);

  return {
    async createPaymentIntent(input) {
      if (input.amount <= 0n || input.amount > MAX_AMOUNT) throw new RangeError(`amount out of range: ${input.amount}`);
      if (!input.idempotencyKey) throw new Error('createPaymentIntent needs an idempotency key');
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: Number(input.amount),
            currency: input.currency.toLowerCase(),
            metadata: input.metadata,
            ...(input.description ? { description: input.description } : {}),
            automatic_payment_methods: { enabled: true },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        if (!intent.client_secret) throw new PaymentProviderError('unavailable', `PaymentIntent ${intent.id} came without a client secret`, true);
        return { id: intent.id, clientSecret: intent.client_secret };
      } catch (err) {
        throw toProviderError(err);
      }
    },

    async retrievePaymentIntent(id) {
      try {
        return fromPaymentIntent(await stripe.paymentIntents.retrieve(id));
      } catch (err) {
        throw toProviderError(err);
      }
    },
  };
}

// Stripe Connect, for payouts: creators' connected accounts, onboarding links, transfers to
// them and payouts from their balance to their bank. Every write carries an idempotency key.

export interface ConnectedAccountView {
  id: string;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
}

export interface ConnectGateway {
  /** An Express connected account for one of our users (our id in metadata). */
  createConnectedAccount(input: { userId: string; email?: string; idempotencyKey: string }): Promise<{ id: string }>;
  /** A one-time onboarding link (Stripe's hosted flow); expires after a few minutes. */
  createAccountLink(input: { accountId: string; refreshUrl: string; returnUrl: string }): Promise<{ url: string; expiresAt: Date }>;
  retrieveAccount(id: string): Promise<ConnectedAccountView>;
  /** Moves money from the platform's balance to the connected account. */
  createTransfer(input: { amount: bigint; currency: string; destination: string; transferGroup: string; idempotencyKey: string; metadata: Record<string, string> }): Promise<{ id: string }>;
  /** Pays the connected account's balance out to its bank (on that account). */
  createPayout(input: { account: string; amount: bigint; currency: string; idempotencyKey: string; metadata: Record<string, string> }): Promise<{ id: string; status: string }>;
  /** Takes a transfer back into the platform's balance (after its payout failed). */
  reverseTransfer(input: { transferId: string; amount: bigint; idempotencyKey: string; metadata: Record<string, string> }): Promise<{ id: string }>;
}

const connectNotConfigured = (): Promise<never> => Promise.reject(new PaymentProviderError('not_configured', 'Stripe is not configured (STRIPE_SECRET_KEY)', false));

function checkAmount(amount: bigint): number {
  if (amount <= 0n || amount > MAX_AMOUNT) throw new RangeError(`amount out of range: ${amount}`);
  return Number(amount);
}

export function createStripeConnectGateway(config: StripeConfig | undefined): ConnectGateway {
  if (!config) {
    return {
      createConnectedAccount: connectNotConfigured,
      createAccountLink: connectNotConfigured,
      retrieveAccount: connectNotConfigured,
      createTransfer: connectNotConfigured,
      createPayout: connectNotConfigured,
      reverseTransfer: connectNotConfigured,
    };
  }
  const stripe = stripeClient(config);
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw toProviderError(err);
    }
  };

  return {
    createConnectedAccount: (input) =>
      call(async () => {
        const account = await stripe.accounts.create(
          {
            type: 'express',
            ...(input.email ? { email: input.email } : {}),
            capabilities: { transfers: { requested: true } },
            metadata: { userId: input.userId },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: account.id };
      }),

    createAccountLink: (input) =>
      call(async () => {
        const link = await stripe.accountLinks.create({
          account: input.accountId,
          refresh_url: input.refreshUrl,
          return_url: input.returnUrl,
          type: 'account_onboarding',
        });
        return { url: link.url, expiresAt: new Date(link.expires_at * 1000) };
      }),

    retrieveAccount: (id) =>
      call(async () => {
        const account = await stripe.accounts.retrieve(id);
        return { id: account.id, payoutsEnabled: Boolean(account.payouts_enabled), detailsSubmitted: Boolean(account.details_submitted) };
      }),

    createTransfer: (input) =>
      call(async () => {
        const transfer = await stripe.transfers.create(
          {
            amount: checkAmount(input.amount),
            currency: input.currency.toLowerCase(),
            destination: input.destination,
            transfer_group: input.transferGroup,
            metadata: input.metadata,
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: transfer.id };
      }),

    createPayout: (input) =>
      call(async () => {
        const payout = await stripe.payouts.create(
          { amount: checkAmount(input.amount), currency: input.currency.toLowerCase(), metadata: input.metadata },
          { idempotencyKey: input.idempotencyKey, stripeAccount: input.account },
        );
        return { id: payout.id, status: payout.status };
      }),

    reverseTransfer: (input) =>
      call(async () => {
        const reversal = await stripe.transfers.createReversal(
          input.transferId,
          { amount: checkAmount(input.amount), metadata: input.metadata },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: reversal.id };
      }),
  };
}

// Stripe Billing, for channel subscriptions (README "Subscriptions"): one Customer per user,
// one Subscription per subscription row (our id in `metadata.subscriptionId`), its price given
// inline per tier (`price_data` on a Product per tier). Stripe invoices every month; its invoice
// events tell the `subscription/<id>` workflow what was paid.

export interface CreateSubscriptionInput {
  /** Our subscription's id: in the metadata, and the root of every idempotency key. */
  subscriptionId: string;
  customerId: string;
  tier: number;
  /** Monthly price, minor units. */
  amount: bigint;
  currency: string;
  metadata: Record<string, string>;
}

export interface ProviderSubscriptionRef {
  id: string;
  /** The first invoice's payment secret, for Stripe.js to confirm; null when Stripe gave none. */
  clientSecret: string | null;
}

export interface SubscriptionGateway {
  /** The user's Customer: created once (our user id in metadata and in the idempotency key). */
  createCustomer(input: { userId: string; email?: string; idempotencyKey: string }): Promise<{ id: string }>;
  /** A subscription waiting for its first payment (`payment_behavior=default_incomplete`). */
  createSubscription(input: CreateSubscriptionInput): Promise<ProviderSubscriptionRef>;
  /** Sets or clears cancel-at-period-end. */
  setCancelAtPeriodEnd(input: { providerSubscriptionId: string; cancel: boolean; idempotencyKey: string }): Promise<void>;
  /** Moves the subscription's one item to another tier's price; Stripe prorates. */
  changeTier(input: { providerSubscriptionId: string; tier: number; amount: bigint; currency: string; idempotencyKey: string }): Promise<void>;
}

/** The Product each tier's prices belong to: a fixed id, so every process finds the same one. */
export const subscriptionProductId = (tier: number) => `streamhub_subscription_tier_${tier}`;

export function createStripeSubscriptionGateway(config: StripeConfig | undefined): SubscriptionGateway {
  if (!config) {
    return { createCustomer: connectNotConfigured, createSubscription: connectNotConfigured, setCancelAtPeriodEnd: connectNotConfigured, changeTier: connectNotConfigured };
  }
  const stripe = stripeClient(config);
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw toProviderError(err);
    }
  };
  const products = new Map<number, Promise<string>>();
  /** The tier's Product, created on first use; "already exists" is the answer we want. */
  const productOf = (tier: number): Promise<string> => {
    let known = products.get(tier);
    if (!known) {
      const id = subscriptionProductId(tier);
      known = stripe.products
        .create({ id, name: `StreamHub subscription, tier ${tier}`, metadata: { tier: String(tier) } }, { idempotencyKey: stripeIdempotencyKey('subscription-product', String(tier)) })
        .then(
          () => id,
          (err: unknown) => {
            if (err instanceof Stripe.errors.StripeError && err.code === 'resource_already_exists') return id;
            products.delete(tier);
            throw err;
          },
        );
      products.set(tier, known);
    }
    return known;
  };
  const priceData = async (tier: number, amount: bigint, currency: string) => ({
    currency: currency.toLowerCase(),
    product: await productOf(tier),
    unit_amount: checkAmount(amount),
    recurring: { interval: 'month' as const },
  });

  return {
    createCustomer: (input) =>
      call(async () => {
        const customer = await stripe.customers.create({ ...(input.email ? { email: input.email } : {}), metadata: { userId: input.userId } }, { idempotencyKey: input.idempotencyKey });
        return { id: customer.id };
      }),

    createSubscription: (input) =>
      call(async () => {
        const subscription = await stripe.subscriptions.create(
          {
            customer: input.customerId,
            items: [{ price_data: await priceData(input.tier, input.amount, input.currency) }],
            payment_behavior: 'default_incomplete',
            payment_settings: { save_default_payment_method: 'on_subscription' },
            metadata: { ...input.metadata, subscriptionId: input.subscriptionId },
            expand: ['latest_invoice.confirmation_secret'],
          },
          { idempotencyKey: stripeIdempotencyKey('subscription', input.subscriptionId) },
        );
        const invoice = subscription.latest_invoice;
        // Empty when there is nothing to confirm (stripe-mock answers with an empty one).
        const clientSecret = invoice && typeof invoice !== 'string' ? invoice.confirmation_secret?.client_secret || null : null;
        return { id: subscription.id, clientSecret };
      }),

    setCancelAtPeriodEnd: (input) =>
      call(async () => {
        await stripe.subscriptions.update(input.providerSubscriptionId, { cancel_at_period_end: input.cancel }, { idempotencyKey: input.idempotencyKey });
      }),

    changeTier: (input) =>
      call(async () => {
        const current = await stripe.subscriptions.retrieve(input.providerSubscriptionId);
        const item = current.items.data[0];
        if (!item) throw new PaymentProviderError('invalid_request', `Subscription ${input.providerSubscriptionId} has no item`, false);
        await stripe.subscriptions.update(
          input.providerSubscriptionId,
          {
            items: [{ id: item.id, price_data: await priceData(input.tier, input.amount, input.currency) }],
            proration_behavior: 'create_prorations',
            metadata: { tier: String(input.tier) },
          },
          { idempotencyKey: input.idempotencyKey },
        );
      }),
  };
}
