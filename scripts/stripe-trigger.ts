// `npx tsx scripts/stripe-trigger.ts <event type> ['<data.object JSON>'] [--url <webhook URL>]`
// What `stripe trigger` does for a local StreamHub: builds a Stripe-shaped event around the
// given object (over a sample of that type), signs it with the stack's STRIPE_WEBHOOK_SECRET
// exactly as Stripe signs, and POSTs it to the webhook of the running API. Development only.
//   npx tsx scripts/stripe-trigger.ts payment_intent.succeeded '{"amount": 1000, "metadata": {"paymentId": "<payment id>"}}'
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/config.ts';
import { buildStripeEvent, signedStripeDelivery } from '../lib/payments/stripe-events.ts';
import { STRIPE_WEBHOOK_PATH } from '../api/payments/webhooks.ts';
import { stackEnvironment } from './stack/environment.ts';

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(64);
};

const { positionals, values } = parseArgs({ allowPositionals: true, options: { url: { type: 'string' } } });
const [type, objectJson] = positionals;
if (!type || !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(type)) {
  fail("usage: scripts/stripe-trigger.ts <event type, e.g. payment_intent.succeeded> ['<data.object JSON>'] [--url <webhook URL>]");
}
let object: Record<string, unknown> | undefined;
if (objectJson) {
  try {
    object = JSON.parse(objectJson);
  } catch (err) {
    fail(`the object is not JSON: ${(err as Error).message}`);
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) fail('the object must be a JSON object');
}

let config;
try {
  config = stackEnvironment().config;
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
if (config.env === 'production') fail('refused: NODE_ENV=production (real events come from Stripe)');
if (!config.payments.stripe) fail('payments are off: STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are unset');

const url = values.url ?? `http://${config.api.host}:${config.api.port}${STRIPE_WEBHOOK_PATH}`;
const now = Math.floor(Date.now() / 1000);
const event = buildStripeEvent({ type: type!, object, createdSeconds: now });
const { body, signature } = signedStripeDelivery(event, config.payments.stripe!.webhookSecret, now);
const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body }).catch((err: Error) =>
  fail(`could not reach ${url}: ${err.message} (is \`npm start\` running?)`),
);
process.stdout.write(`${event.id} ${event.type} → ${url}: ${res.status} ${await res.text()}\n`);
process.exit(res.ok ? 0 : 1);
