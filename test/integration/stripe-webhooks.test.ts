import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentEventHandler } from '../../activities/payments.ts';
import { createApp, type App } from '../../api/app.ts';
import { startPaymentEventWorkflow } from '../../lib/payments/event-intake.ts';
import { stripeSignatureHeader } from '../../lib/payments/stripe-signature.ts';
import { createStripeGateway, PaymentProviderError, stripeIdempotencyKey } from '../../lib/stripe.ts';
import { searchAttributes } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { applyPaymentEvent } from '../../workflows/payment-event.ts';
import { useTestContext } from '../support/context.ts';
import { until } from '../support/gateway.ts';
import { call } from '../support/http.ts';
import { createEffectsTable, effectsOf, KILLED_MID_EVENT_TYPE, recordingHandler } from '../support/payment-handlers.ts';
import { postStripeDelivery, sendStripeEvent, stripeDelivery } from '../support/stripe.ts';
import { recordingProxy } from '../support/stripe-proxy.ts';
import { spawnWorkerProcess, withWorkers } from '../support/workers.ts';

// Stripe's webhook end to end: signature checked over the raw body, each event stored once
// in payment_events, applied by one workflow run through the handler registry, exactly once
// even across a worker killed mid-event; and the client adapter against stripe-mock.

const t = useTestContext();
let app: App;
const cleanups: (() => void)[] = [];
const afterEnd = (fn: () => void) => cleanups.push(fn);
afterAll(() => cleanups.forEach((fn) => fn()));

beforeAll(async () => {
  app = createApp(t.ctx.apiDeps());
  await createEffectsTable(t.ctx.db);
});

const stored = (eventId: string) => t.ctx.db.selectFrom('payment_events').selectAll().where('event_id', '=', eventId).execute();
const workflowOf = (eventId: string) => t.ctx.temporal.client.workflow.getHandle<typeof applyPaymentEvent>(workflowIds.paymentEvent('stripe', eventId));
const startedRuns = async (eventId: string) =>
  (await workflowOf(eventId).fetchHistory()).events!.filter((e) => e.workflowExecutionStartedEventAttributes).length;
const handlers = (type: string, handler: PaymentEventHandler) => new Map([[type, handler]]);

describe('Stripe webhook', { timeout: 120_000 }, () => {
  it('refuses a delivery whose signature does not verify with 400 invalid_signature, storing nothing and starting nothing', async () => {
    const { config } = t.ctx;
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      'wrong secret': () => stripeDelivery(config, { type: 'payment_intent.succeeded', secret: 'whsec_not_the_endpoint_secret_0000' }),
      'tampered body': () => {
        const d = stripeDelivery(config, { type: 'payment_intent.succeeded', object: { amount: 500 } });
        return { ...d, body: d.body.replace('"amount": 500', '"amount": 50000') };
      },
      'no header': () => ({ ...stripeDelivery(config, { type: 'payment_intent.succeeded' }), signature: undefined }),
      'signed 301 s ago': () => stripeDelivery(config, { type: 'payment_intent.succeeded', signedAt: now - 301 }),
    };
    for (const [name, make] of Object.entries(cases)) {
      const delivery = make();
      expect(delivery.body, name).toContain(delivery.event.id);
      const res = await postStripeDelivery(app, delivery);
      expect(res.status, name).toBe(400);
      expect(res.json.error.code, name).toBe('invalid_signature');
      expect(await stored(delivery.event.id), name).toEqual([]);
      await expect(workflowOf(delivery.event.id).describe(), name).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
  });

  it('refuses a signed body that is not a Stripe event, and one over the body limit, storing nothing', async () => {
    const notAnEvent = stripeDelivery(t.ctx.config, { type: 'payment_intent.succeeded' });
    const body = JSON.stringify({ ...notAnEvent.event, object: 'charge' });
    const signature = stripeSignatureHeader(body, t.ctx.config.payments.stripe!.webhookSecret, Math.floor(Date.now() / 1000));
    const res = await postStripeDelivery(app, { body, signature });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');

    const small = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, api: { ...t.ctx.config.api, maxBodyBytes: 4096 } } });
    const big = stripeDelivery(t.ctx.config, { type: 'payment_intent.succeeded', object: { description: 'x'.repeat(5000) } });
    const tooLarge = await postStripeDelivery(small, big);
    expect(tooLarge.status).toBe(413);
    expect(await stored(big.event.id)).toEqual([]);
    expect(await stored(notAnEvent.event.id)).toEqual([]);
  });

  it('stores an event once, starts one workflow and applies it once, however often it is delivered', async () => {
    let calls = 0;
    const handler = recordingHandler({ appliedBy: 'in-process', whileApplying: async () => void calls++ });
    const delivery = stripeDelivery(t.ctx.config, { type: 'payment_intent.succeeded', object: { metadata: { tipId: 'tip-1' } } });

    const result = await withWorkers(
      t.ctx,
      async () => {
        // Stripe retries and parallel deliveries of one event; no bearer token is needed or looked at.
        const answers = await Promise.all([
          postStripeDelivery(app, delivery),
          postStripeDelivery(app, delivery),
          postStripeDelivery(app, delivery, { authorization: 'Bearer not-a-token' }),
        ]);
        for (const res of answers) expect(res.json).toEqual({ success: true, data: { received: true } });
        const outcome = await workflowOf(delivery.event.id).result();
        const { runId } = await workflowOf(delivery.event.id).describe();
        // Delivered again after it was applied, and started again directly: nothing new runs.
        expect((await postStripeDelivery(app, delivery)).status).toBe(200);
        await startPaymentEventWorkflow(t.ctx.temporal, 'stripe', delivery.event.id);
        expect((await workflowOf(delivery.event.id).describe()).runId).toBe(runId);
        return outcome;
      },
      { stripeEventHandlers: handlers('payment_intent.succeeded', handler) },
    );

    expect(result).toEqual({ outcome: 'applied', type: 'payment_intent.succeeded' });
    expect(calls).toBe(1);
    expect(await effectsOf(t.ctx.db, delivery.event.id)).toEqual([{ applied_by: 'in-process' }]);
    expect(await startedRuns(delivery.event.id)).toBe(1);
    const rows = await stored(delivery.event.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'stripe', type: 'payment_intent.succeeded', livemode: false, payload: delivery.event });
    expect(rows[0]!.applied_at).toBeInstanceOf(Date);
    expect(rows[0]!.provider_created_at.getTime()).toBe(delivery.event.created * 1000);
    const description = await workflowOf(delivery.event.id).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.Phase)).toBe('applied');
    expect(description.taskQueue).toBe(t.ctx.config.temporal.taskQueue);
  });

  it('marks an event of a type without a handler applied, with no effect', async () => {
    const { event, outcome } = await withWorkers(t.ctx, async () => {
      const sent = await sendStripeEvent(app, t.ctx.config, { type: 'customer.created', object: { id: 'cus_1', object: 'customer' } });
      expect(sent.res.status).toBe(200);
      return { event: sent.event, outcome: await workflowOf(sent.event.id).result() };
    });
    expect(outcome).toEqual({ outcome: 'unhandled', type: 'customer.created' });
    expect((await stored(event.id))[0]!.applied_at).toBeInstanceOf(Date);
    expect(await effectsOf(t.ctx.db, event.id)).toEqual([]);
  });

  it('applies an event exactly once when the worker applying it is SIGKILLed mid-event', async () => {
    const markers = mkdtempSync(path.join(os.tmpdir(), 'stripe-markers-'));
    afterEnd(() => rmSync(markers, { recursive: true, force: true }));
    const doomed = await spawnWorkerProcess(t.ctx, 'platform', {
      preload: path.join(import.meta.dirname, '../support/payment-worker-preload.ts'),
      env: { STREAMHUB_TEST_MARKER_DIR: markers },
    });
    const { event, res } = await sendStripeEvent(app, t.ctx.config, { type: KILLED_MID_EVENT_TYPE, object: { id: 'ch_1', object: 'charge', metadata: {} } });
    expect(res.status).toBe(200);

    // Its handler wrote the effect in the event's transaction and is holding it open.
    await until(() => readdirSync(markers).includes(event.id), 'the doomed worker to be applying the event', 60_000);
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    await until(async () => (await effectsOf(t.ctx.db, event.id)).length === 0, 'the killed transaction to roll back', 30_000);
    expect((await stored(event.id))[0]!.applied_at).toBeNull();

    let calls = 0;
    const outcome = await withWorkers(t.ctx, () => workflowOf(event.id).result(), {
      stripeEventHandlers: handlers(KILLED_MID_EVENT_TYPE, recordingHandler({ appliedBy: 'replacement', whileApplying: async () => void calls++ })),
    });
    expect(outcome).toEqual({ outcome: 'applied', type: KILLED_MID_EVENT_TYPE });
    expect(calls).toBe(1);
    expect(await effectsOf(t.ctx.db, event.id)).toEqual([{ applied_by: 'replacement' }]);
    expect((await stored(event.id))[0]!.applied_at).toBeInstanceOf(Date);
    // The kill cost one attempt, which the server timed out by its heartbeat; the second applied it.
    const attempts = (await workflowOf(event.id).fetchHistory()).events!.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : []));
    expect(attempts).toEqual([2]);
  });
});

describe('development trigger POST /api/v1/dev/stripe/events', { timeout: 60_000 }, () => {
  it('is not served in production', async () => {
    const production = createApp({ ...t.ctx.apiDeps(), config: { ...t.ctx.config, env: 'production' } });
    const headers = { 'x-internal-secret': t.ctx.config.internalSecret };
    const res = await call(production, 'POST', '/api/v1/dev/stripe/events', { body: { type: 'payment_intent.succeeded' }, headers });
    expect(res.status).toBe(404);
    const doc = (await call(production, 'GET', '/api/v1/openapi.json')).json;
    expect(Object.keys(doc.paths)).not.toContain('/api/v1/dev/stripe/events');
    expect(Object.keys(doc.paths)).toContain('/api/v1/webhooks/stripe');
  });

  it('needs the internal secret', async () => {
    for (const headers of [{}, { 'x-internal-secret': 'wrong' }, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const res = await call(app, 'POST', '/api/v1/dev/stripe/events', { body: { type: 'payment_intent.succeeded' }, headers });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('unauthorized');
    }
  });

  it('signs an event as Stripe does and delivers it to the webhook, which stores and applies it', async () => {
    let seen: { metadata: Record<string, string>; amount: unknown } | undefined;
    const handler: PaymentEventHandler = async (ctx, event) => {
      seen = { metadata: event.metadata, amount: event.object.amount };
      await recordingHandler({ appliedBy: 'dev-trigger' })(ctx, event);
    };
    const { res, outcome } = await withWorkers(
      t.ctx,
      async () => {
        const res = await call(app, 'POST', '/api/v1/dev/stripe/events', {
          body: { type: 'charge.refunded', object: { amount: 700, metadata: { tipId: 'tip-9' } } },
          headers: { authorization: `Bearer ${t.ctx.config.internalSecret}` },
        });
        expect(res.status).toBe(200);
        return { res, outcome: await workflowOf(res.json.data.event.id).result() };
      },
      { stripeEventHandlers: handlers('charge.refunded', handler) },
    );
    const eventId: string = res.json.data.event.id;
    expect(eventId).toMatch(/^evt_/);
    expect(res.json.data).toMatchObject({ event: { type: 'charge.refunded', object: { object: 'charge', amount: 700 } }, webhookStatus: 200 });
    expect(outcome).toEqual({ outcome: 'applied', type: 'charge.refunded' });
    expect(seen).toEqual({ metadata: { tipId: 'tip-9' }, amount: 700 });
    expect(await effectsOf(t.ctx.db, eventId)).toEqual([{ applied_by: 'dev-trigger' }]);

    const invalid = await call(app, 'POST', '/api/v1/dev/stripe/events', { body: { type: 'Not A Type' }, headers: { 'x-internal-secret': t.ctx.config.internalSecret } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.details).toEqual([expect.objectContaining({ field: 'type' })]);
  });
});

describe('Stripe adapter against stripe-mock', { timeout: 60_000 }, () => {
  it('creates a PaymentIntent with our idempotency key and metadata, repeating the key when it retries', async () => {
    const stripeConfig = t.ctx.config.payments.stripe!;
    expect(stripeConfig.apiBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const proxy = await recordingProxy(stripeConfig.apiBaseUrl!, { failFirst: 1 });
    try {
      const gateway = createStripeGateway({ ...stripeConfig, apiBaseUrl: proxy.url });
      const tipId = crypto.randomUUID();
      const created = await gateway.createPaymentIntent({
        amount: 1250n,
        currency: 'USD',
        idempotencyKey: stripeIdempotencyKey('tip', tipId),
        metadata: { purpose: 'tip', tipId },
        description: 'Tip',
      });
      expect(created.id).toMatch(/^pi_/);
      expect(created.clientSecret).toMatch(/^pi_\w+_secret_\w+$/);

      const creates = proxy.seen.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
      expect(creates).toHaveLength(2);
      expect(creates.map((r) => r.idempotencyKey)).toEqual([`streamhub/tip/${tipId}/create`, `streamhub/tip/${tipId}/create`]);
      const form = new URLSearchParams(creates[1]!.body);
      expect(Object.fromEntries(form)).toMatchObject({ amount: '1250', currency: 'usd', 'metadata[purpose]': 'tip', 'metadata[tipId]': tipId, description: 'Tip' });

      const view = await gateway.retrievePaymentIntent(created.id);
      expect(view).toMatchObject({ id: expect.stringMatching(/^pi_/), currency: expect.stringMatching(/^[A-Z]{3}$/) });
      expect(typeof view.amount).toBe('bigint');
    } finally {
      await proxy.close();
    }
  });

  it('refuses without calling anyone when payments are off, and turns provider refusals into typed errors', async () => {
    const input = { amount: 100n, currency: 'USD', idempotencyKey: stripeIdempotencyKey('tip', crypto.randomUUID()), metadata: { tipId: 'x' } };
    await expect(createStripeGateway(undefined).createPaymentIntent(input)).rejects.toMatchObject({ kind: 'not_configured', retryable: false });
    const stripeConfig = t.ctx.config.payments.stripe!;
    // stripe-mock takes test keys only: a live one is refused as Stripe refuses a wrong key.
    const wrongKey = createStripeGateway({ ...stripeConfig, secretKey: 'sk_live_0123456789abcdef' });
    await expect(wrongKey.createPaymentIntent(input)).rejects.toMatchObject({ name: 'PaymentProviderError', kind: 'authentication', retryable: false });
    // Parameters are checked against Stripe's OpenAPI: metadata values must be strings.
    const gateway = createStripeGateway(stripeConfig);
    const nested = { ...input, metadata: { tip: { id: 'x' } } as unknown as Record<string, string> };
    const refused = await gateway.createPaymentIntent(nested).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PaymentProviderError);
    expect(refused).toMatchObject({ kind: 'invalid_request', retryable: false });
    await expect(gateway.createPaymentIntent({ ...input, amount: 0n })).rejects.toBeInstanceOf(RangeError);
  });
});
