import type { App } from '../../api/app.ts';
import { STRIPE_WEBHOOK_PATH } from '../../api/payments/webhooks.ts';
import type { Config } from '../../lib/config.ts';
import { buildStripeEvent, signedStripeDelivery, type StripeEventEnvelope } from '../../lib/payments/stripe-events.ts';
import { call } from './http.ts';

export interface StripeDelivery {
  event: StripeEventEnvelope;
  body: string;
  signature: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A Stripe event and its delivery, signed as Stripe signs (with the file's webhook secret unless told). */
export function stripeDelivery(
  config: Config,
  input: { type: string; object?: Record<string, unknown>; id?: string; account?: string; secret?: string; signedAt?: number },
): StripeDelivery {
  const secret = input.secret ?? config.payments.stripe?.webhookSecret;
  if (!secret) throw new Error('no STRIPE_WEBHOOK_SECRET in the test environment');
  const signedAt = input.signedAt ?? nowSeconds();
  const event = buildStripeEvent({ type: input.type, object: input.object, id: input.id, account: input.account, createdSeconds: signedAt });
  return { event, ...signedStripeDelivery(event, secret, signedAt) };
}

/** POSTs a delivery to the webhook route as Stripe would (body and header as given). */
export function postStripeDelivery(app: App, delivery: { body: string; signature?: string }, headers: Record<string, string> = {}) {
  return call(app, 'POST', STRIPE_WEBHOOK_PATH, {
    body: delivery.body,
    headers: { ...(delivery.signature === undefined ? {} : { 'stripe-signature': delivery.signature }), ...headers },
  });
}

/** Builds, signs and sends one event; returns the event and the webhook's answer. */
export async function sendStripeEvent(app: App, config: Config, input: { type: string; object?: Record<string, unknown>; id?: string; account?: string }) {
  const delivery = stripeDelivery(config, input);
  return { event: delivery.event, res: await postStripeDelivery(app, delivery) };
}
